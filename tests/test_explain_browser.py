"""The explain page as a reader uses it: headless Chromium driven by Selenium (Debian's
``chromium-driver``). It loads with no console error and no request; choosing a hidden delta,
by click or by Tab, lights up exactly the edges its sum runs over; a screenshot shows it."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402

from indexnet.reading.explain import default_problem, explain  # noqa: E402

CHROMIUM = next(filter(None, map(shutil.which, ("chromium", "chromium-browser"))), None)
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or DRIVER is None,
    reason="no chromium or chromedriver on PATH (.ci/run installs Debian's chromium and "
    "chromium-driver)",
)
TIMEOUT = 30  # seconds, for every page load, script and wait


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    net, X, Y = default_problem((2, 3, 2, 2), seed=3)
    path = tmp_path_factory.mktemp("explain") / "explain.html"
    explain(net, X, Y, lam=1e-3).write_html(path)
    return path


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--window-size=1280,800", "--hide-scrollbars"):  # fmt: skip
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    service = webdriver.ChromeService(executable_path=DRIVER)
    try:
        browser = webdriver.Chrome(options=options, service=service)
    except Exception as error:  # a driver that does not match the browser, a sandbox refusal
        pytest.skip(f"chromedriver could not start chromium: {error}")
    browser.set_page_load_timeout(TIMEOUT)
    browser.set_script_timeout(TIMEOUT)
    yield browser
    browser.quit()


def _load(driver, page):
    driver.get(page.as_uri())
    driver.get_log("browser")  # drop what an earlier test left


def _highlighted(driver):
    return sorted(e.get_attribute("id") for e in driver.find_elements(By.CSS_SELECTOR, ".edge.hl"))


def test_the_page_loads_with_no_console_message_and_no_request_but_itself(driver, page):
    driver.get_log("performance")
    driver.get(page.as_uri())
    assert driver.execute_script("return document.readyState") == "complete"
    # Only what the page itself said: a browser starting cold may log about its own profile.
    said = [
        e for e in driver.get_log("browser") if e.get("source") in ("console-api", "javascript")
    ]
    assert said == []
    requests = [
        json.loads(entry["message"])["message"]["params"]["request"]["url"]
        for entry in driver.get_log("performance")
        if '"Network.requestWillBeSent"' in entry["message"]
    ]
    # Anything fetched from a network or a file other than the page; the browser's own
    # start-up pages (about:, chrome:, data:) are not the page's doing.
    fetched = [url for url in requests if url != page.as_uri() and ":" in url]
    fetched = [
        url for url in fetched if url.split(":")[0] in ("http", "https", "ws", "wss", "file")
    ]
    assert fetched == []
    assert page.as_uri() in requests
    assert driver.execute_script("return performance.getEntriesByType('resource').length") == 0


@pytest.mark.parametrize("layer, unit", [(2, 1), (2, 3), (3, 2)])
def test_clicking_a_hidden_delta_lights_exactly_its_edges_W_ji(driver, page, layer, unit):
    _load(driver, page)
    sizes = (2, 3, 2, 2)
    assert _highlighted(driver) == []
    driver.find_element(By.ID, f"delta-{layer}-{unit}").click()
    s_next = sizes[layer]  # s_{l+1}: sizes is 0-based, layers 1-based
    expected = sorted(f"edge-{layer}-{j}-{unit}" for j in range(1, s_next + 1))
    assert _highlighted(driver) == expected
    factors = driver.find_elements(By.CSS_SELECTOR, "text.factor")
    assert sorted(e.get_attribute("id") for e in factors) == sorted(
        f"delta-{layer + 1}-{j}" for j in range(1, s_next + 1)
    )
    caption = driver.find_element(By.ID, "chosen-caption").text
    assert f"{s_next} edges out of unit {unit}" in caption
    assert driver.get_log("browser") == []


def test_tab_reaches_a_delta_and_focus_alone_highlights(driver, page):
    _load(driver, page)
    body = driver.find_element(By.TAG_NAME, "body")
    body.click()
    active = ""
    for _ in range(80):  # every W label and hidden delta is a tab stop
        body.send_keys(Keys.TAB) if not active else driver.switch_to.active_element.send_keys(
            Keys.TAB
        )
        active = driver.switch_to.active_element.get_attribute("id") or "?"
        if active.startswith("delta-"):
            break
    assert active.startswith("delta-"), active
    _, layer, unit = active.split("-")
    s_next = (2, 3, 2, 2)[int(layer)]
    assert _highlighted(driver) == sorted(f"edge-{layer}-{j}-{unit}" for j in range(1, s_next + 1))


def test_choosing_a_weight_lights_the_two_factors_of_its_gradient(driver, page):
    _load(driver, page)
    driver.find_element(By.ID, "w-2-1-3").click()
    factors = sorted(
        e.get_attribute("id") for e in driver.find_elements(By.CSS_SELECTOR, ".factor")
    )
    assert factors == ["a-2-3", "delta-3-1"]
    assert _highlighted(driver) == ["edge-2-1-3"]


def test_a_screenshot_shows_the_highlighted_edges(driver, page, tmp_path):
    """The screenshot is looked at by a person (docs/explain.png was made this way); here its
    pixels are checked for the highlight colour, absent before the click and present after."""
    Image = pytest.importorskip("PIL.Image")
    _load(driver, page)
    before = tmp_path / "before.png"
    after = tmp_path / "after.png"
    driver.save_screenshot(str(before))
    driver.find_element(By.ID, "delta-3-1").click()
    driver.save_screenshot(str(after))

    def orange(path: Path) -> int:  # #e8590c, the highlighted edges' stroke
        r, g, b = np.asarray(Image.open(path).convert("RGB")).astype(int).transpose(2, 0, 1)
        return int(((r > 200) & (g > 70) & (g < 110) & (b < 40)).sum())

    assert orange(before) == 0
    assert orange(after) > 200
