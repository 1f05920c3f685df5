/* The per-example SGD loops of indexnet.loops.sgd_epochs, in plain C, for a peer comparison
 * (bench/sgd_vs_c.py): sigmoid units, the squared cost, weight decay, batch 1, theta laid out as
 * indexnet.layout lays it out (every W^(l) row by row, then every b^(l)). Each step: forward,
 * cost, output delta, then down the layers the weight and bias gradients and the hidden delta,
 * then the update. Returns the mean cost of the last epoch. */
#include <math.h>

#define MAX_UNITS 4096

static double sigmoid(double z) { return 1.0 / (1.0 + exp(-z)); }

double sgd_epochs_c(double *theta, const long *sizes, long n_l, const double *X, const double *Y,
                    long m, const long *orders, long epochs, double lam, double alpha,
                    double *grad, double *A, double *D) {
    long n_weights = 0, offset_a[64], offset_w[64], offset_b[64];
    long top = n_l - 1, total_units = 0;
    for (long l = 0; l < top; l++) {
        offset_w[l] = n_weights;
        n_weights += sizes[l + 1] * sizes[l];
    }
    long nb = n_weights;
    for (long l = 0; l < top; l++) {
        offset_b[l] = nb;
        nb += sizes[l + 1];
    }
    for (long l = 1; l <= top; l++) {
        offset_a[l] = total_units;
        total_units += sizes[l];
    }
    double mean = 0.0;
    for (long e = 0; e < epochs; e++) {
        double sum = 0.0;
        for (long q = 0; q < m; q++) {
            long k = orders[e * m + q];
            const double *x = X + k * sizes[0], *y = Y + k * sizes[top];
            /* forward: z_i = sum_j W_ij a_j + b_i, a_i = f(z_i) */
            for (long l = 0; l < top; l++) {
                const double *a = l == 0 ? x : A + offset_a[l];
                const double *W = theta + offset_w[l], *b = theta + offset_b[l];
                double *a_next = A + offset_a[l + 1];
                for (long i = 0; i < sizes[l + 1]; i++) {
                    double z = b[i];
                    for (long j = 0; j < sizes[l]; j++) z += W[i * sizes[l] + j] * a[j];
                    a_next[i] = sigmoid(z);
                }
            }
            /* cost and output delta: delta_i = -(y_i - a_i) a_i (1 - a_i) */
            const double *a_out = A + offset_a[top];
            double *d_out = D + offset_a[top], J = 0.0, decay = 0.0;
            for (long i = 0; i < sizes[top]; i++) {
                double r = a_out[i] - y[i];
                J += 0.5 * r * r;
                d_out[i] = r * a_out[i] * (1.0 - a_out[i]);
            }
            for (long w = 0; w < n_weights; w++) decay += theta[w] * theta[w];
            sum += J + 0.5 * lam * decay;
            /* down the layers: dW_ij = a_j delta_i + lam W_ij, db_i = delta_i,
               delta_j^(l) = (sum_i W_ij delta_i^(l+1)) a_j (1 - a_j) */
            for (long l = top - 1; l >= 0; l--) {
                const double *a = l == 0 ? x : A + offset_a[l];
                const double *W = theta + offset_w[l], *d_next = D + offset_a[l + 1];
                double *dW = grad + offset_w[l], *db = grad + offset_b[l];
                for (long i = 0; i < sizes[l + 1]; i++) {
                    for (long j = 0; j < sizes[l]; j++)
                        dW[i * sizes[l] + j] = a[j] * d_next[i] + lam * W[i * sizes[l] + j];
                    db[i] = d_next[i];
                }
                if (l > 0) {
                    double *d = D + offset_a[l];
                    for (long j = 0; j < sizes[l]; j++) {
                        double s = 0.0;
                        for (long i = 0; i < sizes[l + 1]; i++) s += W[i * sizes[l] + j] * d_next[i];
                        d[j] = s * a[j] * (1.0 - a[j]);
                    }
                }
            }
            /* update: theta := theta - alpha grad */
            for (long p = 0; p < nb; p++) theta[p] -= alpha * grad[p];
        }
        mean = sum / m;
    }
    return mean;
}
