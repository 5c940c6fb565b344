/* Known-answer vectors for Kolokol's GF(256) Shamir split (test_shamir.cpp), made with Debian's
 * libgfshare 2.0.0-6. Not built by CMake: the project does not link libgfshare.
 * Build: cc gfshare_vectors.c -lgfshare -o gfshare_vectors && ./gfshare_vectors
 * libgfshare draws its random coefficients through the gfshare_fill_rand hook; here the hook
 * returns a fixed stream (byte i of the stream is (i * 37 + 11 + seed) mod 256), which the unit
 * test feeds to Kolokol's split in the same order: (k - 1) * size bytes, the coefficient of
 * x^(k-1) first. */
#include <libgfshare.h>
#include <stdio.h>
#include <string.h>

static unsigned stream_pos, stream_seed;
static void fixed_rand(unsigned char* buf, unsigned int n) {
    for (unsigned i = 0; i < n; ++i, ++stream_pos) buf[i] = (unsigned char)(stream_pos * 37u + 11u + stream_seed);
}
static void hex(const char* name, const unsigned char* b, unsigned n) {
    printf("%s ", name);
    for (unsigned i = 0; i < n; ++i) printf("%02x", b[i]);
    printf("\n");
}
int main(void) {
    gfshare_fill_rand = fixed_rand;
    const struct { unsigned k, n, seed; } cases[] = {{2, 3, 0}, {3, 5, 1}, {2, 2, 2}, {5, 8, 3}, {16, 16, 4}, {4, 16, 5}};
    for (unsigned c = 0; c < sizeof cases / sizeof cases[0]; ++c) {
        unsigned k = cases[c].k, n = cases[c].n;
        unsigned char secret[32], xs[16], share[32];
        for (unsigned i = 0; i < 32; ++i) secret[i] = (unsigned char)(i * 11 + c * 29 + 1);
        for (unsigned i = 0; i < n; ++i) xs[i] = (unsigned char)(i + 1);
        stream_pos = 0; stream_seed = cases[c].seed;
        gfshare_ctx* g = gfshare_ctx_init_enc(xs, n, (unsigned char)k, 32);
        gfshare_ctx_enc_setsecret(g, secret);
        printf("case k=%u n=%u seed=%u\n", k, n, cases[c].seed);
        hex("secret", secret, 32);
        for (unsigned i = 0; i < n; ++i) {
            gfshare_ctx_enc_getshare(g, (unsigned char)i, share);
            char label[16];
            snprintf(label, sizeof label, "share%u", xs[i]);
            hex(label, share, 32);
        }
        gfshare_ctx_free(g);
    }
    return 0;
}
