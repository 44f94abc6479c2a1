/* The 2D "same" cross-correlations of a SAN's training step, blocked for the CPU's vector registers.
 *
 * Table III's convolutions (64 images of 28 x 28, a dozen kernels of at most 6 x 6) are too small for oneDNN
 * to run fast: its step ran at 1-3 GFLOP/s. Here each image is padded once into a cache-resident buffer, and
 * two output rows at a time are held in eight 8-float registers while the kernel's taps stream past (GCC's
 * generic vectors: AVX2 with FMA where the CPU has it, SSE or scalar code otherwise). Two primitives serve the
 * whole step (sanets/_convolution.py composes them):
 *
 *   correlate:       out[n, o][i][j] = sum_{c / out_div = o} sum_{u,v} in_pad[n, c / in_div][i + u][j + v] k[c][u][v]
 *   kernel_gradient: grad[c][u][v]   = sum_n sum_{i,j} in_pad[n, c / in_div][i + u][j + v] b[n, c][i][j]
 *
 * where in_pad is the input with `pad` zero rows and columns before and M - 1 - pad after. Only the taps inside each
 * channel's window (its own m x m kernel inside the packed M x M) are visited: the others are zero.
 * Everything runs on the calling thread: torch's OpenMP threads spin for a while after each parallel operation,
 * and threads of ours competing with them for the cores made Table III's step slower, not faster. The kernel
 * gradient sums each image's products in float, then the images in double. The callers check the shapes.
 */
#include <stdlib.h>
#include <string.h>

typedef float v8 __attribute__((vector_size(32)));

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define VECTOR_CLONES
#endif

#define CHUNK 32 /* output columns held in registers: four vectors */

static inline v8 load8(const float *p) {
    v8 v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void store8(float *p, v8 v) { memcpy(p, &v, sizeof v); }

typedef struct {
    float *out;
    const float *in, *kernels, *b;
    double *grad;
    const int *window; /* per channel: first row/column of its window, its size */
    int images, height, width, channels, size, pad, in_channels, in_div, out_channels, out_div;
} Job;

/* Padded planes: rows of `stride` floats, `pad` zero rows/columns before the data. */
static int padded_stride(const Job *job) {
    int columns = (job->width + CHUNK - 1) / CHUNK * CHUNK + job->size + 8;
    return (columns + 7) / 8 * 8;
}

/* Writes the planes into their padded places; the borders stay as they are (zero, from calloc). */
static void pad_planes(float *dst, const float *src, int planes, const Job *job, int stride) {
    int rows = job->height + job->size - 1;
    for (int p = 0; p < planes; p++)
        for (int i = 0; i < job->height; i++)
            memcpy(dst + ((size_t)p * rows + i + job->pad) * stride + job->pad,
                   src + ((size_t)p * job->height + i) * job->width, sizeof(float) * job->width);
}

/* `rows` (1 or 2) output rows of CHUNK columns, from zero or from what `acc_at` holds: two rows give eight
 * independent sums, enough to keep the multiply-add units busy. */
static inline __attribute__((always_inline)) void correlate_chunk(float *acc_at, int acc_stride, const float *top,
                                                                  const float *kernel, int stride, int size, int first,
                                                                  int m, int rows, int start_at_zero) {
    v8 a[2][4] = {{0}};
    if (!start_at_zero)
        for (int r = 0; r < rows; r++)
            for (int t = 0; t < 4; t++) a[r][t] = load8(acc_at + r * acc_stride + 8 * t);
    for (int u = first; u < first + m; u++) {
        const float *row = top + (size_t)u * stride;
        for (int v = first; v < first + m; v++) {
            float w = kernel[u * size + v];
            v8 k = {w, w, w, w, w, w, w, w};
            for (int r = 0; r < rows; r++)
                for (int t = 0; t < 4; t++) a[r][t] += k * load8(row + (size_t)r * stride + v + 8 * t);
        }
    }
    for (int r = 0; r < rows; r++)
        for (int t = 0; t < 4; t++) store8(acc_at + r * acc_stride + 8 * t, a[r][t]);
}

/* A plane's correlation with one kernel window into (or onto) the rows of `acc`. */
VECTOR_CLONES
static void correlate_plane(float *acc, const float *plane, const float *kernel, int height, int chunks, int stride,
                            int size, int first, int m, int start_at_zero) {
    int acc_stride = chunks * CHUNK, i = 0;
    for (; i + 1 < height; i += 2)
        for (int chunk = 0; chunk < chunks; chunk++)
            correlate_chunk(acc + (size_t)i * acc_stride + chunk * CHUNK, acc_stride,
                            plane + (size_t)i * stride + chunk * CHUNK, kernel, stride, size, first, m, 2, start_at_zero);
    for (; i < height; i++)
        for (int chunk = 0; chunk < chunks; chunk++)
            correlate_chunk(acc + (size_t)i * acc_stride + chunk * CHUNK, acc_stride,
                            plane + (size_t)i * stride + chunk * CHUNK, kernel, stride, size, first, m, 1, start_at_zero);
}

static int correlate_job(const Job *job) {
    int stride = padded_stride(job), rows = job->height + job->size - 1;
    int chunks = (job->width + CHUNK - 1) / CHUNK;
    size_t hw = (size_t)job->height * job->width;
    float *planes = calloc((size_t)job->in_channels * rows * stride, sizeof(float));
    float *acc = malloc(sizeof(float) * (size_t)job->height * chunks * CHUNK);
    if (planes == NULL || acc == NULL) {
        free(planes), free(acc);
        return -1;
    }
    for (int n = 0; n < job->images; n++) {
        pad_planes(planes, job->in + (size_t)n * job->in_channels * hw, job->in_channels, job, stride);
        for (int o = 0; o < job->out_channels; o++) {
            for (int c = o * job->out_div; c < (o + 1) * job->out_div; c++)
                correlate_plane(acc, planes + (size_t)(c / job->in_div) * rows * stride,
                                job->kernels + (size_t)c * job->size * job->size, job->height, chunks, stride, job->size,
                                job->window[2 * c], job->window[2 * c + 1], c == o * job->out_div);
            float *out = job->out + ((size_t)n * job->out_channels + o) * hw;
            for (int i = 0; i < job->height; i++)
                memcpy(out + (size_t)i * job->width, acc + (size_t)i * chunks * CHUNK, sizeof(float) * job->width);
        }
    }
    free(planes);
    free(acc);
    return 0;
}

static inline __attribute__((always_inline)) void gradient_taps(float *sums, const float *plane, const float *b,
                                                                int height, int columns, int stride, int u, int v0,
                                                                int count) {
    v8 acc[2][6] = {{0}};
    for (int i = 0; i < height; i++) {
        const float *row = plane + (size_t)(i + u) * stride + v0, *b_row = b + (size_t)i * columns;
        int j = 0;
        for (; j + 16 <= columns; j += 16) {
            v8 y0 = load8(b_row + j), y1 = load8(b_row + j + 8);
            for (int t = 0; t < count; t++) {
                acc[0][t] += y0 * load8(row + j + t);
                acc[1][t] += y1 * load8(row + j + 8 + t);
            }
        }
        if (j < columns)
            for (int t = 0; t < count; t++) acc[0][t] += load8(b_row + j) * load8(row + j + t);
    }
    for (int t = 0; t < count; t++) {
        v8 both = acc[0][t] + acc[1][t];
        float sum = 0;
        for (int l = 0; l < 8; l++) sum += both[l];
        sums[t] = sum;
    }
}

VECTOR_CLONES
static void gradient_channel(double *grad, const float *plane, const float *b, int height, int columns, int stride,
                             int size, int first, int m) {
    float sums[6];
    for (int u = first; u < first + m; u++)
        for (int v0 = first; v0 < first + m; v0 += 6) {
            int count = first + m - v0 < 6 ? first + m - v0 : 6;
            switch (count) {
            case 1: gradient_taps(sums, plane, b, height, columns, stride, u, v0, 1); break;
            case 2: gradient_taps(sums, plane, b, height, columns, stride, u, v0, 2); break;
            case 3: gradient_taps(sums, plane, b, height, columns, stride, u, v0, 3); break;
            case 4: gradient_taps(sums, plane, b, height, columns, stride, u, v0, 4); break;
            case 5: gradient_taps(sums, plane, b, height, columns, stride, u, v0, 5); break;
            default: gradient_taps(sums, plane, b, height, columns, stride, u, v0, 6); break;
            }
            for (int t = 0; t < count; t++) grad[u * size + v0 + t] += sums[t];
        }
}

static int gradient_job(const Job *job) {
    int stride = padded_stride(job), rows = job->height + job->size - 1;
    size_t hw = (size_t)job->height * job->width;
    int columns = (job->width + 7) / 8 * 8;
    float *planes = calloc((size_t)job->in_channels * rows * stride, sizeof(float));
    float *b = calloc((size_t)job->height * columns, sizeof(float));
    if (planes == NULL || b == NULL) {
        free(planes), free(b);
        return -1;
    }
    for (int n = 0; n < job->images; n++) {
        pad_planes(planes, job->in + (size_t)n * job->in_channels * hw, job->in_channels, job, stride);
        for (int c = 0; c < job->channels; c++) {
            const float *src = job->b + ((size_t)n * job->channels + c) * hw;
            for (int i = 0; i < job->height; i++)
                memcpy(b + (size_t)i * columns, src + (size_t)i * job->width, sizeof(float) * job->width);
            gradient_channel(job->grad + (size_t)c * job->size * job->size, planes + (size_t)(c / job->in_div) * rows * stride,
                             b, job->height, columns, stride, job->size, job->window[2 * c], job->window[2 * c + 1]);
        }
    }
    free(planes);
    free(b);
    return 0;
}

/* The entry points, called through ctypes (sanets/_convolution.py): 0 on success, -1 where memory ran out. */
int sanets_correlate(float *out, const float *in, const float *kernels, const int *window, int images, int height,
                     int width, int channels, int size, int pad, int in_channels, int in_div, int out_channels,
                     int out_div) {
    Job job = {out, in, kernels, NULL, NULL, window, images, height, width, channels, size, pad, in_channels, in_div,
               out_channels, out_div};
    return correlate_job(&job);
}

int sanets_kernel_gradient(float *grad, const float *in, const float *b, const int *window, int images, int height,
                           int width, int channels, int size, int pad, int in_channels, int in_div) {
    size_t taps = (size_t)channels * size * size;
    Job job = {NULL, in, NULL, b, calloc(taps, sizeof(double)), window, images, height, width, channels, size, pad,
               in_channels, in_div, 0, 1};
    int status = job.grad == NULL ? -1 : gradient_job(&job);
    for (size_t i = 0; status == 0 && i < taps; i++) grad[i] = (float)job.grad[i];
    free(job.grad);
    return status;
}
