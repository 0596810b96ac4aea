//! The validated shape of a convolution, and the epilogue of its output tiles: what the direct
//! (GEMM) and Winograd paths share.

use crate::act::{epilogue_run, with_simd, Epilogue};
use crate::raw::TileMut;
use crate::KernelError;

/// Geometry of a convolution (PyTorch's `Conv2d` arguments).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv2dParams {
    /// `[sh, sw]`, each ≥ 1.
    pub stride: [usize; 2],
    /// Zero padding `[top, left, bottom, right]`.
    pub padding: [usize; 4],
    /// `[dh, dw]`, each ≥ 1.
    pub dilation: [usize; 2],
    /// Groups: `C_in` and `C_out` are both multiples of it.
    pub groups: usize,
}

impl Default for Conv2dParams {
    fn default() -> Self {
        Self { stride: [1, 1], padding: [0; 4], dilation: [1, 1], groups: 1 }
    }
}

/// The validated shape of one convolution.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Geometry {
    pub(crate) n: usize,
    pub(crate) cin: usize,
    pub(crate) h: usize,
    pub(crate) w: usize,
    pub(crate) cout: usize,
    pub(crate) kh: usize,
    pub(crate) kw: usize,
    pub(crate) oh: usize,
    pub(crate) ow: usize,
    pub(crate) p: Conv2dParams,
}

impl Geometry {
    pub(crate) fn new(x: [usize; 4], wt: [usize; 4], p: Conv2dParams) -> Result<Self, KernelError> {
        let bad = |m: String| Err(KernelError::Shape(m));
        let [n, cin, h, w] = x;
        let [cout, cig, kh, kw] = wt;
        if p.groups == 0 || p.stride.contains(&0) || p.dilation.contains(&0) {
            return bad(format!("convolution with zero groups, stride or dilation: {p:?}"));
        }
        if cin % p.groups != 0 || cout % p.groups != 0 || cig * p.groups != cin {
            return bad(format!("input channels {cin} and weight {wt:?} do not fit {} groups", p.groups));
        }
        if [n, cin, cout, kh, kw].contains(&0) {
            return bad(format!("empty convolution: input {x:?}, weight {wt:?}"));
        }
        let out = |size: usize, pad: usize, k: usize, d: usize, s: usize| -> Option<usize> {
            let span = (k - 1).checked_mul(d)? + 1;
            let padded = size.checked_add(pad)?;
            (padded >= span).then(|| (padded - span) / s + 1)
        };
        let [pt, pl, pb, pr] = p.padding;
        let (Some(oh), Some(ow)) = (
            out(h, pt.saturating_add(pb), kh, p.dilation[0], p.stride[0]),
            out(w, pl.saturating_add(pr), kw, p.dilation[1], p.stride[1]),
        ) else {
            return bad(format!("kernel {kh}×{kw} (dilation {:?}) is larger than the padded input {h}×{w}", p.dilation));
        };
        for dims in [&[n, cin, h, w][..], &[cout, cig, kh, kw], &[n, cout, oh, ow]] {
            dims.iter().try_fold(1usize, |a, &b| a.checked_mul(b)).ok_or_else(|| KernelError::Shape(format!("tensor of {dims:?} overflows")))?;
        }
        Ok(Self { n, cin, h, w, cout, kh, kw, oh, ow, p })
    }

    /// The geometry of `x` convolved with `weight`, with the slices' lengths and the
    /// epilogue's parts checked against it.
    pub(crate) fn checked(x: &[f32], x_shape: [usize; 4], weight: &[f32], weight_shape: [usize; 4], params: Conv2dParams, epilogue: &Epilogue<'_>) -> Result<Self, KernelError> {
        let g = Geometry::new(x_shape, weight_shape, params)?;
        let need = |what: &str, got: usize, dims: [usize; 4]| {
            let want: usize = dims.iter().product();
            if got == want {
                Ok(())
            } else {
                Err(KernelError::Shape(format!("{what} has {got} values, its shape {dims:?} needs {want}")))
            }
        };
        need("input", x.len(), x_shape)?;
        need("weight", weight.len(), weight_shape)?;
        epilogue.check(g.cout, g.out_len())?;
        Ok(g)
    }

    pub(crate) fn out_len(&self) -> usize {
        self.n * self.cout * self.oh * self.ow
    }

    pub(crate) fn depthwise(&self) -> bool {
        self.p.groups == self.cin && self.cout == self.cin
    }

    pub(crate) fn pointwise(&self) -> bool {
        self.kh == 1 && self.kw == 1 && self.p.stride == [1, 1] && self.p.padding == [0; 4]
    }
}

/// Applies the epilogue to a finished tile whose first row is channel `c0` of image `img`.
pub(crate) fn epilogue_tile(g: &Geometry, e: &Epilogue<'_>, tile: &mut TileMut<'_>, img: usize, c0: usize) {
    if e.is_identity() {
        return;
    }
    let hw = g.oh * g.ow;
    let cols = tile.cols();
    with_simd(
        #[inline(always)]
        || {
            for i in 0..tile.rows().len() {
                let c = c0 + i;
                let res = e.residual.map(|r| &r[(img * g.cout + c) * hw + cols.start..(img * g.cout + c) * hw + cols.end]);
                epilogue_run(e, c, tile.row_mut(i), res);
            }
        },
    );
}
