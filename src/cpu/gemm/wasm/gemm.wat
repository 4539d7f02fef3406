;; The WebAssembly SIMD GEMM of the CPU kernels: C[m×n] = A[m×k] · B[k×n], f32.
;;
;; BLIS/XNNPACK structure. A (a tile of the patch matrix) stays row-major as im2col wrote
;; it, k floats a row; B (the filter) is packed by the host into KC-deep blocks of
;; NR-wide column panels, zero-padded to a multiple of NR columns; C is row-major with
;; that padded width. The macro-kernel walks KC-deep slices (a B panel of KC×NR floats,
;; 8 KiB, stays in L1; the A slice of the tile stays in L2), and a 4×8 micro-kernel keeps
;; its 4×8 block of C in eight f32x4 registers, broadcasting one A value per row and
;; loading two B vectors per step of k.
;;
;; The host pads m to a multiple of MR (extra A rows are scratch whose C rows it ignores).
(module
  (memory (export "memory") 1)
  (global (export "MR") i32 (i32.const 4))
  (global (export "NR") i32 (i32.const 8))
  (global $KC (export "KC") i32 (i32.const 256))

  ;; C[4×8] (+)= A[4×depth] · Bpanel[depth×8]; byte addresses and strides.
  (func $microKernel (param $a i32) (param $lda i32) (param $b i32) (param $depth i32)
                     (param $c i32) (param $ldc i32) (param $accumulate i32)
    (local $a1 i32) (local $a2 i32) (local $a3 i32) (local $bEnd i32)
    (local $c1 i32) (local $c2 i32) (local $c3 i32)
    (local $b0 v128) (local $b1 v128) (local $v v128)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local.set $a1 (i32.add (local.get $a) (local.get $lda)))
    (local.set $a2 (i32.add (local.get $a1) (local.get $lda)))
    (local.set $a3 (i32.add (local.get $a2) (local.get $lda)))
    (local.set $c1 (i32.add (local.get $c) (local.get $ldc)))
    (local.set $c2 (i32.add (local.get $c1) (local.get $ldc)))
    (local.set $c3 (i32.add (local.get $c2) (local.get $ldc)))
    (local.set $bEnd (i32.add (local.get $b) (i32.shl (local.get $depth) (i32.const 5))))
    (if (local.get $accumulate)
      (then
        (local.set $c00 (v128.load (local.get $c)))
        (local.set $c01 (v128.load offset=16 (local.get $c)))
        (local.set $c10 (v128.load (local.get $c1)))
        (local.set $c11 (v128.load offset=16 (local.get $c1)))
        (local.set $c20 (v128.load (local.get $c2)))
        (local.set $c21 (v128.load offset=16 (local.get $c2)))
        (local.set $c30 (v128.load (local.get $c3)))
        (local.set $c31 (v128.load offset=16 (local.get $c3)))))
    (loop $k
      (local.set $b0 (v128.load (local.get $b)))
      (local.set $b1 (v128.load offset=16 (local.get $b)))
      (local.set $v (v128.load32_splat (local.get $a)))
      (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $v) (local.get $b0))))
      (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $v) (local.get $b1))))
      (local.set $v (v128.load32_splat (local.get $a1)))
      (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $v) (local.get $b0))))
      (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $v) (local.get $b1))))
      (local.set $v (v128.load32_splat (local.get $a2)))
      (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $v) (local.get $b0))))
      (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $v) (local.get $b1))))
      (local.set $v (v128.load32_splat (local.get $a3)))
      (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $v) (local.get $b0))))
      (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $v) (local.get $b1))))
      (local.set $a (i32.add (local.get $a) (i32.const 4)))
      (local.set $a1 (i32.add (local.get $a1) (i32.const 4)))
      (local.set $a2 (i32.add (local.get $a2) (i32.const 4)))
      (local.set $a3 (i32.add (local.get $a3) (i32.const 4)))
      (local.set $b (i32.add (local.get $b) (i32.const 32)))
      (br_if $k (i32.lt_u (local.get $b) (local.get $bEnd))))
    (v128.store (local.get $c) (local.get $c00))
    (v128.store offset=16 (local.get $c) (local.get $c01))
    (v128.store (local.get $c1) (local.get $c10))
    (v128.store offset=16 (local.get $c1) (local.get $c11))
    (v128.store (local.get $c2) (local.get $c20))
    (v128.store offset=16 (local.get $c2) (local.get $c21))
    (v128.store (local.get $c3) (local.get $c30))
    (v128.store offset=16 (local.get $c3) (local.get $c31)))

  ;; C = A · B for m rows (a multiple of MR), depth k, n columns (a multiple of NR).
  (func (export "gemm") (param $a i32) (param $b i32) (param $c i32)
                        (param $m i32) (param $k i32) (param $n i32)
    (local $k0 i32) (local $depth i32) (local $panel i32) (local $col i32) (local $row i32)
    (local $lda i32) (local $ldc i32)
    (local.set $lda (i32.shl (local.get $k) (i32.const 2)))
    (local.set $ldc (i32.shl (local.get $n) (i32.const 2)))
    (loop $slices
      (local.set $depth (select (global.get $KC) (i32.sub (local.get $k) (local.get $k0))
          (i32.lt_u (global.get $KC) (i32.sub (local.get $k) (local.get $k0)))))
      ;; This slice's block of B starts at k0 * n floats; its panels are depth×NR each.
      (local.set $panel (i32.add (local.get $b)
          (i32.shl (i32.mul (local.get $k0) (local.get $n)) (i32.const 2))))
      (local.set $col (i32.const 0))
      (loop $panels
        (local.set $row (i32.const 0))
        (loop $rows
          (call $microKernel
            (i32.add (local.get $a) (i32.shl (i32.add (i32.mul (local.get $row) (local.get $k))
                                                      (local.get $k0)) (i32.const 2)))
            (local.get $lda) (local.get $panel) (local.get $depth)
            (i32.add (local.get $c) (i32.shl (i32.add (i32.mul (local.get $row) (local.get $n))
                                                      (local.get $col)) (i32.const 2)))
            (local.get $ldc) (local.get $k0))
          (local.set $row (i32.add (local.get $row) (i32.const 4)))
          (br_if $rows (i32.lt_u (local.get $row) (local.get $m))))
        (local.set $panel (i32.add (local.get $panel) (i32.shl (local.get $depth) (i32.const 5))))
        (local.set $col (i32.add (local.get $col) (i32.const 8)))
        (br_if $panels (i32.lt_u (local.get $col) (local.get $n))))
      (local.set $k0 (i32.add (local.get $k0) (local.get $depth)))
      (br_if $slices (i32.lt_u (local.get $k0) (local.get $k)))))
)
