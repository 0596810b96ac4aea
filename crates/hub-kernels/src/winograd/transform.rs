//! The 1-D and 2-D Winograd transforms of `F(2×2)`, `F(3×3)` and `F(4×4)`, on eight lanes
//! (tiles or channels) at a time.

pub(super) const LANES: usize = 8;
/// Eight values, one per tile (or channel), that LLVM keeps in one AVX2 register.
pub(super) type L = [f32; LANES];
pub(super) const ZERO: L = [0.0; LANES];

#[inline(always)]
pub(super) fn add(mut a: L, b: L) -> L {
    for (x, y) in a.iter_mut().zip(b) {
        *x += y;
    }
    a
}

#[inline(always)]
pub(super) fn sub(mut a: L, b: L) -> L {
    for (x, y) in a.iter_mut().zip(b) {
        *x -= y;
    }
    a
}

#[inline(always)]
pub(super) fn mul(mut a: L, s: f32) -> L {
    for x in a.iter_mut() {
        *x *= s;
    }
    a
}

/// One transform pair: the 1-D input (`Bᵀ`), weight (`G`) and output (`Aᵀ`) transforms, applied
/// to columns and then rows for the 2-D ones. Arrays are sized for the largest variant; a
/// variant reads and writes only its first `A` (or `M`) entries.
pub(super) trait Transform {
    /// Output tile side.
    const M: usize;
    /// Input tile side, `M + 2`.
    const A: usize = Self::M + 2;
    fn input(d: &[L; 6]) -> [L; 6];
    fn weight(g: &[L; 3]) -> [L; 6];
    fn output(m: &[L; 6]) -> [L; 4];
}

/// `F(4, 3)` at the points 0, ±1, ±2, ∞.
pub(super) struct F4;

impl Transform for F4 {
    const M: usize = 4;

    #[inline(always)]
    fn input(d: &[L; 6]) -> [L; 6] {
        // Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1]
        let s34 = add(d[3], d[4]);
        let s12 = add(d[1], d[2]);
        let d43 = sub(d[4], d[3]);
        let d12 = sub(d[1], d[2]);
        let d42 = sub(d[4], d[2]);
        let d31 = sub(d[3], d[1]);
        [
            add(sub(mul(d[0], 4.0), mul(d[2], 5.0)), d[4]),
            sub(s34, mul(s12, 4.0)),
            add(d43, mul(d12, 4.0)),
            add(d42, mul(d31, 2.0)),
            sub(d42, mul(d31, 2.0)),
            add(sub(mul(d[1], 4.0), mul(d[3], 5.0)), d[5]),
        ]
    }

    #[inline(always)]
    fn weight(g: &[L; 3]) -> [L; 6] {
        // G = [1/4 0 0; −1/6 −1/6 −1/6; −1/6 1/6 −1/6; 1/24 1/12 1/6; 1/24 −1/12 1/6; 0 0 1]
        let s02 = add(g[0], g[2]);
        let q = add(mul(g[0], 1.0 / 24.0), mul(g[2], 1.0 / 6.0));
        let r = mul(g[1], 1.0 / 12.0);
        [
            mul(g[0], 0.25),
            mul(add(s02, g[1]), -1.0 / 6.0),
            mul(sub(s02, g[1]), -1.0 / 6.0),
            add(q, r),
            sub(q, r),
            g[2],
        ]
    }

    #[inline(always)]
    fn output(m: &[L; 6]) -> [L; 4] {
        // Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 0; 0 1 −1 8 −8 1]
        let s12 = add(m[1], m[2]);
        let s34 = add(m[3], m[4]);
        let d12 = sub(m[1], m[2]);
        let d34 = sub(m[3], m[4]);
        [add(add(m[0], s12), s34), add(d12, mul(d34, 2.0)), add(s12, mul(s34, 4.0)), add(add(d12, mul(d34, 8.0)), m[5])]
    }
}

/// `F(3, 3)` at the points 0, ±1, 2, ∞.
pub(super) struct F3;

impl Transform for F3 {
    const M: usize = 3;

    #[inline(always)]
    fn input(d: &[L; 6]) -> [L; 6] {
        // Bᵀ = [2 −1 −2 1 0; 0 2 1 −1 0; 0 −2 3 −1 0; 0 −1 0 1 0; 0 2 −1 −2 1]
        let d31 = sub(d[3], d[1]);
        [
            add(mul(sub(d[0], d[2]), 2.0), d31),
            sub(add(mul(d[1], 2.0), d[2]), d[3]),
            sub(sub(mul(d[2], 3.0), mul(d[1], 2.0)), d[3]),
            d31,
            sub(sub(d[4], d[2]), mul(d31, 2.0)),
            ZERO,
        ]
    }

    #[inline(always)]
    fn weight(g: &[L; 3]) -> [L; 6] {
        // G = [1/2 0 0; 1/2 1/2 1/2; 1/6 −1/6 1/6; 1/6 1/3 2/3; 0 0 1]
        let s02 = add(g[0], g[2]);
        [
            mul(g[0], 0.5),
            mul(add(s02, g[1]), 0.5),
            mul(sub(s02, g[1]), 1.0 / 6.0),
            add(add(mul(g[0], 1.0 / 6.0), mul(g[1], 1.0 / 3.0)), mul(g[2], 2.0 / 3.0)),
            g[2],
            ZERO,
        ]
    }

    #[inline(always)]
    fn output(m: &[L; 6]) -> [L; 4] {
        // Aᵀ = [1 1 1 1 0; 0 1 −1 2 0; 0 1 1 4 1]
        let s12 = add(m[1], m[2]);
        [add(add(m[0], s12), m[3]), add(sub(m[1], m[2]), mul(m[3], 2.0)), add(add(s12, mul(m[3], 4.0)), m[4]), ZERO]
    }
}

/// `F(2, 3)` at the points 0, ±1, ∞.
pub(super) struct F2;

impl Transform for F2 {
    const M: usize = 2;

    #[inline(always)]
    fn input(d: &[L; 6]) -> [L; 6] {
        // Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]
        [sub(d[0], d[2]), add(d[1], d[2]), sub(d[2], d[1]), sub(d[1], d[3]), ZERO, ZERO]
    }

    #[inline(always)]
    fn weight(g: &[L; 3]) -> [L; 6] {
        // G = [1 0 0; 1/2 1/2 1/2; 1/2 −1/2 1/2; 0 0 1]
        let s02 = add(g[0], g[2]);
        [g[0], mul(add(s02, g[1]), 0.5), mul(sub(s02, g[1]), 0.5), g[2], ZERO, ZERO]
    }

    #[inline(always)]
    fn output(m: &[L; 6]) -> [L; 4] {
        // Aᵀ = [1 1 1 0; 0 1 −1 −1]
        [add(add(m[0], m[1]), m[2]), sub(sub(m[1], m[2]), m[3]), ZERO, ZERO]
    }
}

/// `Bᵀ p B` for an `A×A` patch `p[row][col]`.
#[inline(always)]
pub(super) fn input_2d<T: Transform>(p: &[[L; 6]; 6]) -> [[L; 6]; 6] {
    let mut cols = [[ZERO; 6]; 6];
    for b in 0..T::A {
        let mut col = [ZERO; 6];
        for a in 0..T::A {
            col[a] = p[a][b];
        }
        let c = T::input(&col);
        for a in 0..T::A {
            cols[a][b] = c[a];
        }
    }
    let mut out = [[ZERO; 6]; 6];
    for a in 0..T::A {
        out[a] = T::input(&cols[a]);
    }
    out
}

/// `Aᵀ q A` for an `A×A` block `q[row][col]`: the `M×M` output pixels.
#[inline(always)]
pub(super) fn output_2d<T: Transform>(q: &[[L; 6]; 6]) -> [[L; 4]; 4] {
    let mut cols = [[ZERO; 6]; 4];
    for b in 0..T::A {
        let mut col = [ZERO; 6];
        for a in 0..T::A {
            col[a] = q[a][b];
        }
        let c = T::output(&col);
        for i in 0..T::M {
            cols[i][b] = c[i];
        }
    }
    let mut out = [[ZERO; 4]; 4];
    for i in 0..T::M {
        out[i] = T::output(&cols[i]);
    }
    out
}
