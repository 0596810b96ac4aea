//! The only module of the workspace that uses `unsafe`: it calls the `gemm` crate (whose entry
//! point takes raw pointers) and hands out disjoint mutable output tiles to parallel tasks.
//!
//! Everything here is checked before any pointer is formed: every matrix view asserts that its
//! last element lies inside its slice, and tiles are cut from a grid whose row ranges are
//! asserted sorted and disjoint, so no two tasks can ever see the same output element.
//! `tests/kernels.rs` compares every path against plain scalar loops over random shapes.
#![allow(unsafe_code)]

use std::marker::PhantomData;
use std::ops::Range;

use rayon::prelude::*;

/// A read-only strided view of a row-major-or-not `f32` matrix.
#[derive(Clone, Copy, Debug)]
pub(crate) struct MatRef<'a> {
    data: &'a [f32],
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

impl<'a> MatRef<'a> {
    /// A view of `rows × cols` elements at `data[i·row_stride + j·col_stride]`.
    ///
    /// # Panics
    /// When the last element lies outside `data` (a bug in the caller, never input: callers
    /// validate shapes against lengths first).
    pub(crate) fn new(data: &'a [f32], rows: usize, cols: usize, row_stride: usize, col_stride: usize) -> Self {
        assert!(rows > 0 && cols > 0, "empty matrix view");
        let last = (rows - 1)
            .checked_mul(row_stride)
            .and_then(|r| (cols - 1).checked_mul(col_stride).and_then(|c| r.checked_add(c)))
            .expect("matrix view overflows usize");
        assert!(last < data.len(), "matrix view past its slice: last {last}, len {}", data.len());
        Self { data, rows, cols, row_stride, col_stride }
    }
}

/// The output matrix shared by parallel tasks; only [`par_tiles`] creates one.
struct Grid {
    ptr: *mut f32,
    len: usize,
    cols: usize,
}

// SAFETY: `Grid` is only a base pointer; every access goes through a `TileMut`, and the tiles
// handed to different tasks cover disjoint elements (see `par_tiles`), so sharing the pointer
// between threads creates no aliasing writes.
unsafe impl Send for Grid {}
// SAFETY: as above: concurrent tasks only ever write disjoint elements.
unsafe impl Sync for Grid {}

/// One task's rectangle of the output: rows `rows`, columns `cols` of a row-major matrix.
/// It cannot be cloned, and every mutable access borrows it mutably, so at most one mutable
/// reference into the rectangle exists at a time.
pub(crate) struct TileMut<'a> {
    grid: &'a Grid,
    rows: Range<usize>,
    cols: Range<usize>,
    _out: PhantomData<&'a mut [f32]>,
}

impl TileMut<'_> {
    /// The rows of the output this tile covers.
    pub(crate) fn rows(&self) -> Range<usize> {
        self.rows.clone()
    }

    /// The columns of the output this tile covers.
    pub(crate) fn cols(&self) -> Range<usize> {
        self.cols.clone()
    }

    /// Row `i` of the tile (`0 ≤ i < rows.len()`), its `cols.len()` elements.
    pub(crate) fn row_mut(&mut self, i: usize) -> &mut [f32] {
        assert!(i < self.rows.len(), "tile row {i} of {}", self.rows.len());
        let start = (self.rows.start + i) * self.grid.cols + self.cols.start;
        let len = self.cols.len();
        assert!(start + len <= self.grid.len);
        // SAFETY: `start..start+len` lies inside the output (asserted above and by `par_tiles`),
        // inside this tile's rectangle, which no other tile overlaps; `&mut self` makes this the
        // only live reference into the tile.
        unsafe { std::slice::from_raw_parts_mut(self.grid.ptr.add(start), len) }
    }

    /// `tile = lhs · rhs` (overwriting), single-threaded: `lhs` is `rows × k`, `rhs` is `k × cols`.
    pub(crate) fn gemm(&mut self, lhs: MatRef<'_>, rhs: MatRef<'_>) {
        let (m, n, k) = (self.rows.len(), self.cols.len(), lhs.cols);
        assert_eq!(lhs.rows, m, "lhs rows");
        assert_eq!(rhs.cols, n, "rhs cols");
        assert_eq!(rhs.rows, k, "inner dimension");
        let start = self.rows.start * self.grid.cols + self.cols.start;
        let last = (self.rows.end - 1) * self.grid.cols + self.cols.end - 1;
        assert!(last < self.grid.len);
        let dst = |offset: usize| {
            // SAFETY: `offset ≤ last < len`, inside the output allocation.
            unsafe { self.grid.ptr.add(offset) }
        };
        // SAFETY: every element gemm touches is in bounds: dst spans rows × cols of this tile with
        // row stride `grid.cols` (asserted `last < len`), lhs and rhs were bounds-checked by
        // `MatRef::new`, and strides fit `isize` because they index slices. The destination is
        // not aliased by lhs or rhs (those are shared slices, the output is exclusively
        // borrowed by `par_tiles`), nor by another task (disjoint tiles). `read_dst = false`, so
        // the destination's previous values are never read.
        unsafe {
            gemm::gemm(
                m,
                n,
                k,
                dst(start),
                1,
                self.grid.cols as isize,
                false,
                lhs.data.as_ptr(),
                lhs.col_stride as isize,
                lhs.row_stride as isize,
                rhs.data.as_ptr(),
                rhs.col_stride as isize,
                rhs.row_stride as isize,
                0.0,
                1.0,
                false,
                false,
                false,
                gemm::Parallelism::None,
            );
        }
    }
}

/// Runs `f` on every tile of `out` (a row-major `rows × cols` matrix) in parallel: one tile per
/// row range of `row_ranges` and column block of width `col_block`.
///
/// # Panics
/// As [`par_grid`].
pub(crate) fn par_tiles<F>(out: &mut [f32], rows: usize, cols: usize, row_ranges: &[Range<usize>], col_block: usize, f: F)
where
    F: Fn(TileMut<'_>) + Sync,
{
    assert!(col_block > 0 && cols > 0);
    let col_ranges: Vec<_> = (0..cols).step_by(col_block).map(|c| c..(c + col_block).min(cols)).collect();
    par_grid(out, rows, cols, row_ranges, &col_ranges, f);
}

/// Runs `f` on every tile of `out` (a row-major `rows × cols` matrix) in parallel: one tile per
/// pair of a row range of `row_ranges` and a column range of `col_ranges`.
///
/// # Panics
/// When `out.len() != rows·cols`, or the ranges are empty, unsorted, overlapping or past the
/// matrix (bugs in the caller).
pub(crate) fn par_grid<F>(out: &mut [f32], rows: usize, cols: usize, row_ranges: &[Range<usize>], col_ranges: &[Range<usize>], f: F)
where
    F: Fn(TileMut<'_>) + Sync,
{
    assert_eq!(out.len(), rows.checked_mul(cols).expect("output size"), "output length");
    for (ranges, len) in [(row_ranges, rows), (col_ranges, cols)] {
        let mut end = 0;
        for r in ranges {
            assert!(r.start >= end && r.start < r.end && r.end <= len, "tile ranges must be sorted, disjoint, non-empty");
            end = r.end;
        }
    }
    let grid = Grid { ptr: out.as_mut_ptr(), len: out.len(), cols };
    let col_blocks = col_ranges.len();
    let tasks = row_ranges.len() * col_blocks;
    let run = |t: usize| {
        let r = row_ranges[t / col_blocks].clone();
        let c = col_ranges[t % col_blocks].clone();
        f(TileMut { grid: &grid, rows: r, cols: c, _out: PhantomData });
    };
    if tasks == 1 {
        run(0);
    } else {
        (0..tasks).into_par_iter().for_each(run);
    }
}

/// `out = lhs · rhs` on the calling thread, `out` a contiguous row-major `lhs.rows × rhs.cols`
/// matrix (a task's scratch buffer).
///
/// # Panics
/// When the shapes do not fit together or `out` has another length (bugs in the caller).
pub(crate) fn gemm_into(out: &mut [f32], lhs: MatRef<'_>, rhs: MatRef<'_>) {
    let (m, n) = (lhs.rows, rhs.cols);
    let (rows, cols) = (0..m, 0..n);
    par_grid(out, m, n, std::slice::from_ref(&rows), std::slice::from_ref(&cols), |mut tile| tile.gemm(lhs, rhs));
}

/// `dst = lhs · rhs`, or `dst += lhs · rhs` when `accumulate`, on the calling thread, where `dst`
/// holds a column-major `lhs.rows × rhs.cols` matrix with column stride `dst_cs` (element
/// `(i, j)` at `j·dst_cs + i`): the Winograd path's per-frequency products.
///
/// # Panics
/// When the shapes do not fit together, `dst_cs < lhs.rows` (columns would overlap) or the
/// matrix reaches past `dst` (bugs in the caller).
pub(crate) fn gemm_colmajor(dst: &mut [f32], dst_cs: usize, lhs: MatRef<'_>, rhs: MatRef<'_>, accumulate: bool) {
    let (m, n, k) = (lhs.rows, rhs.cols, lhs.cols);
    assert_eq!(rhs.rows, k, "inner dimension");
    assert!(dst_cs >= m, "column stride {dst_cs} below {m} rows");
    let last = (n - 1).checked_mul(dst_cs).and_then(|c| c.checked_add(m - 1)).expect("dst view overflows usize");
    assert!(last < dst.len(), "dst view past its slice: last {last}, len {}", dst.len());
    // SAFETY: gemm writes (and, when accumulating, reads) exactly the elements `j·dst_cs + i`
    // for `i < m`, `j < n`, all inside `dst` (asserted above) and pairwise distinct because
    // `dst_cs ≥ m`; `dst` is exclusively borrowed, so neither `lhs`/`rhs` (shared slices) nor any
    // other thread can alias it. lhs and rhs were bounds-checked by `MatRef::new`; strides fit
    // `isize` because they index slices. `Parallelism::None`: gemm runs on this thread only.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            dst_cs as isize,
            1,
            accumulate,
            lhs.data.as_ptr(),
            lhs.col_stride as isize,
            lhs.row_stride as isize,
            rhs.data.as_ptr(),
            rhs.col_stride as isize,
            rhs.row_stride as isize,
            if accumulate { 1.0 } else { 0.0 },
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}
