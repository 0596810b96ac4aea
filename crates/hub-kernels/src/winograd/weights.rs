//! The weight transform `U = G g Gᵀ` of every channel pair, and its buffer kept between calls.

use std::sync::Mutex;

use rayon::prelude::*;

use crate::act::with_simd;

use super::transform::{Transform, LANES, ZERO};

/// The transformed weights' buffer, kept between calls (up to [`KEEP_WEIGHTS`] values) so that
/// its pages are not faulted in afresh on every call.
pub(super) static WEIGHTS: Mutex<Vec<f32>> = Mutex::new(Vec::new());
/// The most transformed-weight values kept between calls (64 MiB).
pub(super) const KEEP_WEIGHTS: usize = 16 << 20;

/// `U[ξ][co][ci] = (G g Gᵀ)_ξ` for every output channel `co` and input channel `ci`, eight
/// input channels per SIMD step, in parallel over runs of output channels (each task writes its
/// run's row of every frequency). Returns the buffer (to give back with [`keep_weights`]) and
/// the length used.
pub(super) fn transform_weights<T: Transform>(w: &[f32], cout: usize, cin: usize) -> (Vec<f32>, usize) {
    let a2 = T::A * T::A;
    let len = cout * a2 * cin;
    let mut u = std::mem::take(&mut *WEIGHTS.lock().unwrap_or_else(|e| e.into_inner()));
    if u.len() < len {
        u = vec![0.0f32; len];
    }
    // Every value of `u[..len]` is written below: task `t` gets output channels
    // `t·run..(t+1)·run` of each frequency's `[C_out][C_in]` slab.
    let run = cout.div_ceil(4 * rayon::current_num_threads().max(1)).max(1);
    let mut tasks: Vec<Vec<&mut [f32]>> = (0..cout.div_ceil(run)).map(|_| Vec::with_capacity(a2)).collect();
    for slab in u[..len].chunks_mut(cout * cin) {
        for (task, rows) in tasks.iter_mut().zip(slab.chunks_mut(run * cin)) {
            task.push(rows);
        }
    }
    tasks.into_par_iter().enumerate().for_each(|(t, mut slabs)| {
        // One output channel's `[ξ][C_in]` block at a time, then one contiguous row per slab
        // (36 scattered 8-value stores per step thrash the caches and TLB).
        let mut block = vec![0.0f32; a2 * cin];
        for r in 0..slabs[0].len() / cin {
            let co = t * run + r;
            with_simd(
                #[inline(always)]
                || {
                    for c0 in (0..cin).step_by(LANES) {
                        let lanes = LANES.min(cin - c0);
                        let mut g = [[ZERO; 3]; 3];
                        for l in 0..lanes {
                            let k = &w[(co * cin + c0 + l) * 9..][..9];
                            for (t, &v) in k.iter().enumerate() {
                                g[t / 3][t % 3][l] = v;
                            }
                        }
                        let mut cols = [[ZERO; 3]; 6];
                        for kx in 0..3 {
                            let c = T::weight(&[g[0][kx], g[1][kx], g[2][kx]]);
                            for a in 0..T::A {
                                cols[a][kx] = c[a];
                            }
                        }
                        for (a, col) in cols.iter().enumerate().take(T::A) {
                            let row = T::weight(col);
                            for (b, rb) in row.iter().enumerate().take(T::A) {
                                let dst = &mut block[(a * T::A + b) * cin + c0..];
                                if lanes == LANES {
                                    dst[..LANES].copy_from_slice(rb);
                                } else {
                                    dst[..lanes].copy_from_slice(&rb[..lanes]);
                                }
                            }
                        }
                    }
                },
            );
            for (slab, src) in slabs.iter_mut().zip(block.chunks_exact(cin)) {
                slab[r * cin..(r + 1) * cin].copy_from_slice(src);
            }
        }
    });
    (u, len)
}

/// Gives the transformed weights' buffer back for the next call, when it is not too large.
pub(super) fn keep_weights(u: Vec<f32>) {
    if u.len() <= KEEP_WEIGHTS {
        let mut kept = WEIGHTS.lock().unwrap_or_else(|e| e.into_inner());
        if kept.len() < u.len() {
            *kept = u;
        }
    }
}
