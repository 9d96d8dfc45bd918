/*
 * Batch Keccak-256 (Ethereum's: padding byte 0x01, not SHA3-256's 0x06) for chain/native.
 *
 * C99 (the four-state path below also uses GCC/Clang vector extensions, behind #if), no
 * Python headers, no allocation beyond the stack, no mutable global state: every function
 * may run on several threads at once on disjoint outputs. Callers own every buffer. The
 * loader (chain/native/__init__.py) calls these through ctypes, which releases the GIL.
 *
 * The permutation keeps the 25 lanes in locals and runs two rounds per loop step (A -> E,
 * E -> A), the layout of the Keccak team's public-domain "Keccak-simple" implementation. It is
 * written once as a macro over the lane type: uint64_t for one state, and, on x86-64 with
 * GCC or Clang, a 4 x 64-bit vector for four independent states at once, compiled for AVX2
 * and taken only when the CPU has it (checked at each call). Batches are hashed four messages
 * at a time that way (~3x the throughput of one state at a time); either way the bytes are
 * the same.
 */
#include <stdint.h>
#include <string.h>

#define RATE 136
#define ROL(a, n) (((a) << (n)) | ((a) >> (64 - (n))))

static const uint64_t ROUND_CONSTANTS[24] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808AULL, 0x8000000080008000ULL,
    0x000000000000808BULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
    0x000000000000008AULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000AULL,
    0x000000008000808BULL, 0x800000000000008BULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
    0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800AULL, 0x800000008000000AULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL,
};

/* One round from the lanes X?? into the lanes Y??: theta, rho and pi, chi, iota. Lane names are
 * row (b g k m s = y 0..4) then column (a e i o u = x 0..4). */
#define ROUND(X, Y, rc)                                                                       \
    do {                                                                                      \
        Ca = X##ba ^ X##ga ^ X##ka ^ X##ma ^ X##sa;                                           \
        Ce = X##be ^ X##ge ^ X##ke ^ X##me ^ X##se;                                           \
        Ci = X##bi ^ X##gi ^ X##ki ^ X##mi ^ X##si;                                           \
        Co = X##bo ^ X##go ^ X##ko ^ X##mo ^ X##so;                                           \
        Cu = X##bu ^ X##gu ^ X##ku ^ X##mu ^ X##su;                                           \
        Da = Cu ^ ROL(Ce, 1);                                                                 \
        De = Ca ^ ROL(Ci, 1);                                                                 \
        Di = Ce ^ ROL(Co, 1);                                                                 \
        Do = Ci ^ ROL(Cu, 1);                                                                 \
        Du = Co ^ ROL(Ca, 1);                                                                 \
        B0 = X##ba ^ Da;                                                                      \
        B1 = ROL(X##ge ^ De, 44);                                                             \
        B2 = ROL(X##ki ^ Di, 43);                                                             \
        B3 = ROL(X##mo ^ Do, 21);                                                             \
        B4 = ROL(X##su ^ Du, 14);                                                             \
        Y##ba = B0 ^ (~B1 & B2) ^ (rc);                                                       \
        Y##be = B1 ^ (~B2 & B3);                                                              \
        Y##bi = B2 ^ (~B3 & B4);                                                              \
        Y##bo = B3 ^ (~B4 & B0);                                                              \
        Y##bu = B4 ^ (~B0 & B1);                                                              \
        B0 = ROL(X##bo ^ Do, 28);                                                             \
        B1 = ROL(X##gu ^ Du, 20);                                                             \
        B2 = ROL(X##ka ^ Da, 3);                                                              \
        B3 = ROL(X##me ^ De, 45);                                                             \
        B4 = ROL(X##si ^ Di, 61);                                                             \
        Y##ga = B0 ^ (~B1 & B2);                                                              \
        Y##ge = B1 ^ (~B2 & B3);                                                              \
        Y##gi = B2 ^ (~B3 & B4);                                                              \
        Y##go = B3 ^ (~B4 & B0);                                                              \
        Y##gu = B4 ^ (~B0 & B1);                                                              \
        B0 = ROL(X##be ^ De, 1);                                                              \
        B1 = ROL(X##gi ^ Di, 6);                                                              \
        B2 = ROL(X##ko ^ Do, 25);                                                             \
        B3 = ROL(X##mu ^ Du, 8);                                                              \
        B4 = ROL(X##sa ^ Da, 18);                                                             \
        Y##ka = B0 ^ (~B1 & B2);                                                              \
        Y##ke = B1 ^ (~B2 & B3);                                                              \
        Y##ki = B2 ^ (~B3 & B4);                                                              \
        Y##ko = B3 ^ (~B4 & B0);                                                              \
        Y##ku = B4 ^ (~B0 & B1);                                                              \
        B0 = ROL(X##bu ^ Du, 27);                                                             \
        B1 = ROL(X##ga ^ Da, 36);                                                             \
        B2 = ROL(X##ke ^ De, 10);                                                             \
        B3 = ROL(X##mi ^ Di, 15);                                                             \
        B4 = ROL(X##so ^ Do, 56);                                                             \
        Y##ma = B0 ^ (~B1 & B2);                                                              \
        Y##me = B1 ^ (~B2 & B3);                                                              \
        Y##mi = B2 ^ (~B3 & B4);                                                              \
        Y##mo = B3 ^ (~B4 & B0);                                                              \
        Y##mu = B4 ^ (~B0 & B1);                                                              \
        B0 = ROL(X##bi ^ Di, 62);                                                             \
        B1 = ROL(X##go ^ Do, 55);                                                             \
        B2 = ROL(X##ku ^ Du, 39);                                                             \
        B3 = ROL(X##ma ^ Da, 41);                                                             \
        B4 = ROL(X##se ^ De, 2);                                                              \
        Y##sa = B0 ^ (~B1 & B2);                                                              \
        Y##se = B1 ^ (~B2 & B3);                                                              \
        Y##si = B2 ^ (~B3 & B4);                                                              \
        Y##so = B3 ^ (~B4 & B0);                                                              \
        Y##su = B4 ^ (~B0 & B1);                                                              \
    } while (0)

/* Keccak-f[1600] on the lanes s[x + 5y] of type T; RC(c) makes a round constant a T. */
#define KECCAK_F1600(T, s, RC)                                                                \
    do {                                                                                      \
        T Aba = s[0], Abe = s[1], Abi = s[2], Abo = s[3], Abu = s[4];                         \
        T Aga = s[5], Age = s[6], Agi = s[7], Ago = s[8], Agu = s[9];                         \
        T Aka = s[10], Ake = s[11], Aki = s[12], Ako = s[13], Aku = s[14];                    \
        T Ama = s[15], Ame = s[16], Ami = s[17], Amo = s[18], Amu = s[19];                    \
        T Asa = s[20], Ase = s[21], Asi = s[22], Aso = s[23], Asu = s[24];                    \
        T Eba, Ebe, Ebi, Ebo, Ebu, Ega, Ege, Egi, Ego, Egu, Eka, Eke, Eki, Eko, Eku;          \
        T Ema, Eme, Emi, Emo, Emu, Esa, Ese, Esi, Eso, Esu;                                   \
        T Ca, Ce, Ci, Co, Cu, Da, De, Di, Do, Du, B0, B1, B2, B3, B4;                         \
        int round;                                                                            \
        for (round = 0; round < 24; round += 2) {                                             \
            ROUND(A, E, RC(ROUND_CONSTANTS[round]));                                          \
            ROUND(E, A, RC(ROUND_CONSTANTS[round + 1]));                                      \
        }                                                                                     \
        s[0] = Aba; s[1] = Abe; s[2] = Abi; s[3] = Abo; s[4] = Abu;                           \
        s[5] = Aga; s[6] = Age; s[7] = Agi; s[8] = Ago; s[9] = Agu;                           \
        s[10] = Aka; s[11] = Ake; s[12] = Aki; s[13] = Ako; s[14] = Aku;                      \
        s[15] = Ama; s[16] = Ame; s[17] = Ami; s[18] = Amo; s[19] = Amu;                      \
        s[20] = Asa; s[21] = Ase; s[22] = Asi; s[23] = Aso; s[24] = Asu;                      \
    } while (0)

#define SCALAR_CONSTANT(c) (c)

static void keccak_f1600(uint64_t *s) { KECCAK_F1600(uint64_t, s, SCALAR_CONSTANT); }

/* Little-endian loads and stores, byte by byte so the host's byte order does not matter
 * (compilers turn them into single moves on little-endian machines). */
static uint64_t load64(const uint8_t *p) {
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
           (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
}

static void store64(uint8_t *p, uint64_t v) {
    int i;
    for (i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* The last block of a len-byte message: its tail, then 0x01, zeros and 0x80 (pad10*1). */
static void last_block(const uint8_t *data, size_t len, uint8_t block[RATE]) {
    size_t tail = len % RATE;
    memset(block, 0, RATE);
    if (tail) memcpy(block, data + (len - tail), tail);
    block[tail] ^= 0x01;
    block[RATE - 1] ^= 0x80;
}

/* keccak256(data[0:len]) into out (32 bytes); out may alias data. */
static void keccak256(const uint8_t *data, size_t len, uint8_t *out) {
    uint64_t s[25] = {0};
    uint8_t last[RATE];
    size_t i, block, blocks = len / RATE + 1;
    last_block(data, len, last);
    for (block = 0; block < blocks; block++) {
        const uint8_t *p = block + 1 < blocks ? data + block * RATE : last;
        for (i = 0; i < RATE / 8; i++) s[i] ^= load64(p + 8 * i);
        keccak_f1600(s);
    }
    for (i = 0; i < 4; i++) store64(out + 8 * i, s[i]);
}

/* -DABS_KECCAK_SCALAR_ONLY builds without the vector path (tests compare the two). */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(ABS_KECCAK_SCALAR_ONLY)
#define HAVE_X4 1
typedef uint64_t lane4 __attribute__((vector_size(32)));
#define VECTOR_CONSTANT(c) ((lane4){(c), (c), (c), (c)})

__attribute__((target("avx2"))) static void keccak_f1600_x4(lane4 *s) {
    KECCAK_F1600(lane4, s, VECTOR_CONSTANT);
}

/* keccak256 of four messages, one per vector slot. Shorter messages finish early (their
 * digest is taken after their last block; their slot then permutes on unused). */
__attribute__((target("avx2"))) static void keccak256_x4(const uint8_t *const in[4], const size_t len[4],
                                                         uint8_t *const out[4]) {
    lane4 s[25];
    uint8_t last[4][RATE];
    size_t blocks[4], most = 0, block, i;
    int slot;
    memset(s, 0, sizeof s);
    for (slot = 0; slot < 4; slot++) {
        blocks[slot] = len[slot] / RATE + 1;
        if (blocks[slot] > most) most = blocks[slot];
        last_block(in[slot], len[slot], last[slot]);
    }
    for (block = 0; block < most; block++) {
        for (slot = 0; slot < 4; slot++) {
            const uint8_t *p;
            if (block >= blocks[slot]) continue;
            p = block + 1 < blocks[slot] ? in[slot] + block * RATE : last[slot];
            for (i = 0; i < RATE / 8; i++) s[i][slot] ^= load64(p + 8 * i);
        }
        keccak_f1600_x4(s);
        for (slot = 0; slot < 4; slot++)
            if (block + 1 == blocks[slot])
                for (i = 0; i < 4; i++) store64(out[slot] + 8 * i, s[i][slot]);
    }
}
#endif

/* 1 if keccak256_x4 may run here. */
static int have_x4(void) {
#ifdef HAVE_X4
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") != 0;
#else
    return 0;
#endif
}

/* How many states the permutation runs at once here: 4 (AVX2 path) or 1. For diagnostics. */
int abs_keccak_lanes(void) { return have_x4() ? 4 : 1; }

/* keccak256 of n <= 4 messages: four at once where possible (unused slots hash nothing useful). */
static void keccak256_n(int x4, int n, const uint8_t *const in[4], const size_t len[4], uint8_t *const out[4]) {
    int slot;
#ifdef HAVE_X4
    if (x4 && n > 1) {
        uint8_t spare[32];
        const uint8_t *ins[4];
        size_t lens[4];
        uint8_t *outs[4];
        for (slot = 0; slot < 4; slot++) {
            ins[slot] = slot < n ? in[slot] : in[0];
            lens[slot] = slot < n ? len[slot] : 0;
            outs[slot] = slot < n ? out[slot] : spare;
        }
        keccak256_x4(ins, lens, outs);
        return;
    }
#endif
    (void)x4;
    for (slot = 0; slot < n; slot++) keccak256(in[slot], len[slot], out[slot]);
}

/* Row i of a batch: fixed-width rows when offsets is NULL, else data[offsets[i]:offsets[i + 1]]. */
static void batch(const uint8_t *data, int64_t width, const int64_t *offsets, int64_t count, int rounds,
                  uint8_t *out) {
    const uint8_t *in[4];
    size_t len[4];
    uint8_t *dest[4];
    int64_t first;
    int x4 = have_x4(), n, slot, r;
    for (first = 0; first < count; first += 4) {
        n = count - first < 4 ? (int)(count - first) : 4;
        for (slot = 0; slot < n; slot++) {
            int64_t i = first + slot;
            in[slot] = offsets ? data + offsets[i] : data + i * width;
            len[slot] = (size_t)(offsets ? offsets[i + 1] - offsets[i] : width);
            dest[slot] = out + 32 * i;
        }
        keccak256_n(x4, n, in, len, dest);
        for (r = 1; r < rounds; r++) { /* hash the digests again, in place */
            for (slot = 0; slot < n; slot++) {
                in[slot] = dest[slot];
                len[slot] = 32;
            }
            keccak256_n(x4, n, in, len, dest);
        }
    }
}

/* keccak256 of each of `count` consecutive `width`-byte rows. */
void abs_keccak256_fixed(const uint8_t *data, int64_t width, int64_t count, uint8_t *out) {
    batch(data, width, NULL, count, 1, out);
}

/* keccak256 of rows data[offsets[i]:offsets[i + 1]] for i < count. */
void abs_keccak256_var(const uint8_t *data, const int64_t *offsets, int64_t count, uint8_t *out) {
    batch(data, 0, offsets, count, 1, out);
}

/* keccak256(keccak256(row)) of each fixed-width row: the StandardMerkleTree leaf of an
 * ABI-encoded row. */
void abs_double_keccak256_fixed(const uint8_t *data, int64_t width, int64_t count, uint8_t *out) {
    batch(data, width, NULL, count, 2, out);
}

/* keccak256(keccak256(row)) of each variable-length row (offsets as in abs_keccak256_var). */
void abs_double_keccak256_var(const uint8_t *data, const int64_t *offsets, int64_t count, uint8_t *out) {
    batch(data, 0, offsets, count, 2, out);
}

/* keccak256(salt_i || keccak256(row_i)): chain.leaves.salted_record_hash of each record, with
 * the 32-byte salts back to back in `salts` and the rows as in abs_keccak256_var. */
void abs_salted_hashes(const uint8_t *salts, const uint8_t *data, const int64_t *offsets, int64_t count,
                       uint8_t *out) {
    uint8_t pairs[4][64];
    const uint8_t *in[4];
    size_t len[4];
    uint8_t *dest[4];
    int64_t first;
    int x4 = have_x4(), n, slot;
    for (first = 0; first < count; first += 4) {
        n = count - first < 4 ? (int)(count - first) : 4;
        for (slot = 0; slot < n; slot++) {
            int64_t i = first + slot;
            memcpy(pairs[slot], salts + 32 * i, 32);
            in[slot] = data + offsets[i];
            len[slot] = (size_t)(offsets[i + 1] - offsets[i]);
            dest[slot] = pairs[slot] + 32;
        }
        keccak256_n(x4, n, in, len, dest);
        for (slot = 0; slot < n; slot++) {
            in[slot] = pairs[slot];
            len[slot] = 64;
            dest[slot] = out + 32 * (first + slot);
        }
        keccak256_n(x4, n, in, len, dest);
    }
}

/* Nodes low..high-1 of one depth: node i = keccak256 of its children 2i+1 and 2i+2, the smaller
 * (as a big-endian 256-bit number) first. */
static void hash_depth(int x4, uint8_t *tree, int64_t low, int64_t high) {
    uint8_t pairs[4][64];
    const uint8_t *in[4];
    size_t len[4];
    uint8_t *dest[4];
    int64_t first;
    int n, slot;
    for (first = low; first < high; first += 4) {
        n = high - first < 4 ? (int)(high - first) : 4;
        for (slot = 0; slot < n; slot++) {
            int64_t i = first + slot;
            const uint8_t *left = tree + (2 * i + 1) * 32, *right = left + 32;
            int ordered = memcmp(left, right, 32) <= 0;
            memcpy(pairs[slot], ordered ? left : right, 32);
            memcpy(pairs[slot] + 32, ordered ? right : left, 32);
            in[slot] = pairs[slot];
            len[slot] = 64;
            dest[slot] = tree + 32 * i;
        }
        keccak256_n(x4, n, in, len, dest);
    }
}

/* Nodes low..high-1 of an array-backed tree of 32-byte nodes (node i has children 2i+1 and
 * 2i+2), deepest depth first, so the range may span depths; the children of the deepest
 * nodes must already be hashed. */
void abs_tree_nodes(uint8_t *tree, int64_t low, int64_t high) {
    int x4 = have_x4();
    while (high > low) {
        int64_t start = 0; /* first node of the depth of node high-1 */
        while (2 * start + 1 <= high - 1) start = 2 * start + 1;
        if (start < low) start = low;
        hash_depth(x4, tree, start, high);
        high = start;
    }
}

/* Every internal node under the sibling subtrees rooted at first_root..last_root (all at one
 * depth), deepest level first; the leaves must already be in place. Disjoint root ranges may
 * run on different threads; (0, 0, internal_count) hashes a whole tree. */
void abs_tree_subtrees(uint8_t *tree, int64_t first_root, int64_t last_root, int64_t internal_count) {
    int x4 = have_x4(), depth = 0, level;
    while (((first_root + 1) << depth) - 1 < internal_count) depth++;
    for (level = depth - 1; level >= 0; level--) {
        int64_t low = ((first_root + 1) << level) - 1;
        int64_t high = ((last_root + 2) << level) - 1;
        if (high > internal_count) high = internal_count;
        if (low < high) hash_depth(x4, tree, low, high);
    }
}
