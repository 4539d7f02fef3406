;; The WebAssembly SIMD GEMM of the CPU kernels: C[m×n] = A[m×k] · B[k×n], f32, and the
;; in-memory im2col that fills A. This is a template: scripts/build_wasm.js substitutes the
;; blocking of src/cpu/gemm/blocking.json for the placeholders in double braces and
;; generates the micro-kernel and B's panel copy from MR and NR before assembling it (the
;; expanded text is written beside this file as gemm.generated.wat).
;;
;; BLIS/XNNPACK structure. A (a tile of the patch matrix) is row-major with a leading
;; dimension lda; B (the filter) is packed once per convolution (packB, below) into KC-deep
;; blocks of NR-wide column panels, zero-padded to a multiple of NR columns; C is row-major
;; with a leading dimension ldc. The macro-kernel walks KC-deep slices (a B panel of KC×NR
;; floats stays in L1; the A slice of the tile stays in L2), and the MR×NR micro-kernel keeps
;; its block of C in MR·NR/4 f32x4 registers, broadcasting one A value per row and loading
;; NR/4 B vectors per step of k.
;;
;; The host pads m to a multiple of MR (extra A rows are scratch whose C rows it ignores).
;;
;; Depthwise convolutions use the im2col with a channelwise product instead of the GEMM
;; (channelwise, im2colChannelwise below): a patch row's taps times the filter, channel by
;; channel, f32x4 over the channels.
(module
{{memory}}
  (global $KC i32 (i32.const {{KC}}))

{{microKernel}}

  ;; C = A · B for m rows (a multiple of MR) of A at $a (lda floats a row), depth k, B packed
  ;; at $b with n columns (a multiple of NR), C at $c (ldc floats a row). Byte addresses.
  (func (export "gemm") (param $a i32) (param $lda i32) (param $b i32) (param $c i32)
                        (param $ldc i32) (param $m i32) (param $k i32) (param $n i32)
    (call $gemmColumns (local.get $a) (local.get $lda) (local.get $b) (local.get $c)
        (local.get $ldc) (local.get $m) (local.get $k) (local.get $n) (i32.const 0)
        (local.get $n)))

  ;; The columns [col0, colEnd) of that product (multiples of NR): C's columns from $c + col0
  ;; on, B's panels from col0 on. A thread's share when the work is split over columns.
  (func $gemmColumns (param $a i32) (param $lda i32) (param $b i32) (param $c i32)
                     (param $ldc i32) (param $m i32) (param $k i32) (param $n i32)
                     (param $col0 i32) (param $colEnd i32)
    (local $k0 i32) (local $depth i32) (local $panel i32) (local $col i32) (local $row i32)
    (local $ldaBytes i32) (local $ldcBytes i32)
    (local.set $ldaBytes (i32.shl (local.get $lda) (i32.const 2)))
    (local.set $ldcBytes (i32.shl (local.get $ldc) (i32.const 2)))
    (loop $slices
      (local.set $depth (select (global.get $KC) (i32.sub (local.get $k) (local.get $k0))
          (i32.lt_u (global.get $KC) (i32.sub (local.get $k) (local.get $k0)))))
      ;; This slice's block of B starts at k0 * n floats; its panels are depth×NR each.
      (local.set $panel (i32.add (local.get $b) (i32.shl (i32.add
          (i32.mul (local.get $k0) (local.get $n)) (i32.mul (local.get $col0) (local.get $depth)))
          (i32.const 2))))
      (local.set $col (local.get $col0))
      (loop $panels
        (local.set $row (i32.const 0))
        (loop $rows
          (call $microKernel
            (i32.add (local.get $a) (i32.shl (i32.add (i32.mul (local.get $row) (local.get $lda))
                                                      (local.get $k0)) (i32.const 2)))
            (local.get $ldaBytes) (local.get $panel) (local.get $depth)
            (i32.add (local.get $c) (i32.shl (i32.add (i32.mul (local.get $row) (local.get $ldc))
                                                      (local.get $col)) (i32.const 2)))
            (local.get $ldcBytes) (local.get $k0))
          (local.set $row (i32.add (local.get $row) (i32.const {{MR}})))
          (br_if $rows (i32.lt_u (local.get $row) (local.get $m))))
        (local.set $panel (i32.add (local.get $panel)
                                   (i32.mul (local.get $depth) (i32.const {{NR_BYTES}}))))
        (local.set $col (i32.add (local.get $col) (i32.const {{NR}})))
        (br_if $panels (i32.lt_u (local.get $col) (local.get $colEnd))))
      (local.set $k0 (i32.add (local.get $k0) (local.get $depth)))
      (br_if $slices (i32.lt_u (local.get $k0) (local.get $k)))))

  ;; Packs B (k×n floats, row-major at $src, ldb floats a row) to $dst: KC-deep blocks of
  ;; NR-wide panels, zero-padded to $width columns (a multiple of NR). Returns 1 when B holds
  ;; an Inf or a NaN (v - v is 0 for finite v and NaN otherwise; the sum of those stays NaN).
  (func (export "packB") (param $src i32) (param $ldb i32) (param $dst i32) (param $k i32)
                         (param $n i32) (param $width i32) (result i32)
    (local $k0 i32) (local $depth i32) (local $col i32) (local $cols i32) (local $p i32)
    (local $from i32) (local $j i32) (local $v v128) (local $sums v128)
    (local $value f32) (local $sum f32)
    (loop $slices
      (local.set $depth (select (global.get $KC) (i32.sub (local.get $k) (local.get $k0))
          (i32.lt_u (global.get $KC) (i32.sub (local.get $k) (local.get $k0)))))
      (local.set $col (i32.const 0))
      (loop $panels
        ;; Columns of B in this panel: NR, fewer at the right edge, none past it.
        (local.set $cols (i32.sub (local.get $n) (local.get $col)))
        (if (i32.lt_s (local.get $cols) (i32.const 0)) (then (local.set $cols (i32.const 0))))
        (local.set $from (i32.add (local.get $src) (i32.shl (i32.add
            (i32.mul (local.get $k0) (local.get $ldb)) (local.get $col)) (i32.const 2))))
        (local.set $p (i32.const 0))
        (loop $depthSteps
          (if (i32.ge_u (local.get $cols) (i32.const {{NR}}))
            (then
{{packFullPanelRow}})
            (else
{{zeroPanelRow}}
              (local.set $j (i32.const 0))
              (block $edgeDone (loop $edge
                (br_if $edgeDone (i32.ge_u (local.get $j) (local.get $cols)))
                (local.set $value (f32.load (i32.add (local.get $from)
                                                     (i32.shl (local.get $j) (i32.const 2)))))
                (f32.store (i32.add (local.get $dst) (i32.shl (local.get $j) (i32.const 2)))
                           (local.get $value))
                (local.set $sum (f32.add (local.get $sum)
                                         (f32.sub (local.get $value) (local.get $value))))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $edge)))))
          (local.set $dst (i32.add (local.get $dst) (i32.const {{NR_BYTES}})))
          (local.set $from (i32.add (local.get $from) (i32.shl (local.get $ldb) (i32.const 2))))
          (local.set $p (i32.add (local.get $p) (i32.const 1)))
          (br_if $depthSteps (i32.lt_u (local.get $p) (local.get $depth))))
        (local.set $col (i32.add (local.get $col) (i32.const {{NR}})))
        (br_if $panels (i32.lt_u (local.get $col) (local.get $width))))
      (local.set $k0 (i32.add (local.get $k0) (local.get $depth)))
      (br_if $slices (i32.lt_u (local.get $k0) (local.get $k))))
    (i32.or (v128.any_true (f32x4.ne (local.get $sums) (local.get $sums)))
            (f32.ne (local.get $sum) (local.get $sum))))

  ;; Copies `bytes` (a multiple of 4) from `src` to `dst`: short patch runs copy faster in
  ;; vectors here (four at a time, then one) than through memory.copy's call out of the module.
  (func $copyBytes (param $dst i32) (param $src i32) (param $bytes i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $dst) (local.get $bytes)))
    (block $blocksDone
      (loop $blocks
        (br_if $blocksDone (i32.gt_u (i32.add (local.get $dst) (i32.const 64)) (local.get $end)))
        (v128.store (local.get $dst) (v128.load (local.get $src)))
        (v128.store offset=16 (local.get $dst) (v128.load offset=16 (local.get $src)))
        (v128.store offset=32 (local.get $dst) (v128.load offset=32 (local.get $src)))
        (v128.store offset=48 (local.get $dst) (v128.load offset=48 (local.get $src)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 64)))
        (local.set $src (i32.add (local.get $src) (i32.const 64)))
        (br $blocks)))
    (block $vectorsDone
      (loop $vectors
        (br_if $vectorsDone (i32.gt_u (i32.add (local.get $dst) (i32.const 16)) (local.get $end)))
        (v128.store (local.get $dst) (v128.load (local.get $src)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
        (local.set $src (i32.add (local.get $src) (i32.const 16)))
        (br $vectors)))
    (block $wordsDone
      (loop $words
        (br_if $wordsDone (i32.ge_u (local.get $dst) (local.get $end)))
        (i32.store (local.get $dst) (i32.load (local.get $src)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
        (local.set $src (i32.add (local.get $src) (i32.const 4)))
        (br $words))))

  ;; The channelwise product of a depthwise convolution, over m rows (a multiple of 4) of A
  ;; at $a (lda floats a row; taps of `channels` floats each, (tap, channel) order):
  ;;   C[r, ch] = sum over taps t of A[r, t * channels + ch] * W[t, ch],
  ;; W at $w with its taps `channels` rounded up to 4 floats apart, C at $c (ldc floats a row,
  ;; ldc at least channels rounded up to 4). Channels go 4 at a time (f32x4); a last vector's
  ;; extra lanes read past their tap and land in C's padding. Four rows share each load of W.
  ;; Byte addresses.
  (func $channelwise (export "channelwise") (param $a i32) (param $lda i32) (param $w i32)
      (param $c i32) (param $ldc i32) (param $m i32) (param $taps i32) (param $channels i32)
    (local $lda1 i32) (local $lda2 i32) (local $lda3 i32) (local $ldc1 i32)
    (local $tapBytes i32) (local $wTapBytes i32) (local $wBytes i32) (local $j i32)
    (local $p i32) (local $q i32) (local $wEnd i32) (local $to i32)
    (local $wv v128) (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128)
    (local.set $lda1 (i32.shl (local.get $lda) (i32.const 2)))
    (local.set $lda2 (i32.shl (local.get $lda) (i32.const 3)))
    (local.set $lda3 (i32.add (local.get $lda1) (local.get $lda2)))
    (local.set $ldc1 (i32.shl (local.get $ldc) (i32.const 2)))
    (local.set $tapBytes (i32.shl (local.get $channels) (i32.const 2)))
    (local.set $wTapBytes (i32.and (i32.add (local.get $tapBytes) (i32.const 12))
                                   (i32.const -16)))
    (local.set $wBytes (i32.mul (local.get $taps) (local.get $wTapBytes)))
    (loop $rows
      (local.set $j (i32.const 0))
      (loop $vectors
        (local.set $s0 (v128.const i32x4 0 0 0 0))
        (local.set $s1 (v128.const i32x4 0 0 0 0))
        (local.set $s2 (v128.const i32x4 0 0 0 0))
        (local.set $s3 (v128.const i32x4 0 0 0 0))
        (local.set $p (i32.add (local.get $a) (local.get $j)))
        (local.set $q (i32.add (local.get $w) (local.get $j)))
        (local.set $wEnd (i32.add (local.get $q) (local.get $wBytes)))
        (loop $tap
          (local.set $wv (v128.load (local.get $q)))
          (local.set $s0 (f32x4.add (local.get $s0)
              (f32x4.mul (v128.load (local.get $p)) (local.get $wv))))
          (local.set $s1 (f32x4.add (local.get $s1)
              (f32x4.mul (v128.load (i32.add (local.get $p) (local.get $lda1))) (local.get $wv))))
          (local.set $s2 (f32x4.add (local.get $s2)
              (f32x4.mul (v128.load (i32.add (local.get $p) (local.get $lda2))) (local.get $wv))))
          (local.set $s3 (f32x4.add (local.get $s3)
              (f32x4.mul (v128.load (i32.add (local.get $p) (local.get $lda3))) (local.get $wv))))
          (local.set $p (i32.add (local.get $p) (local.get $tapBytes)))
          (local.set $q (i32.add (local.get $q) (local.get $wTapBytes)))
          (br_if $tap (i32.lt_u (local.get $q) (local.get $wEnd))))
        (local.set $to (i32.add (local.get $c) (local.get $j)))
        (v128.store (local.get $to) (local.get $s0))
        (local.set $to (i32.add (local.get $to) (local.get $ldc1)))
        (v128.store (local.get $to) (local.get $s1))
        (local.set $to (i32.add (local.get $to) (local.get $ldc1)))
        (v128.store (local.get $to) (local.get $s2))
        (v128.store (i32.add (local.get $to) (local.get $ldc1)) (local.get $s3))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br_if $vectors (i32.lt_u (local.get $j) (local.get $wTapBytes))))
      (local.set $a (i32.add (local.get $a) (i32.shl (local.get $lda) (i32.const 4))))
      (local.set $c (i32.add (local.get $c) (i32.shl (local.get $ldc) (i32.const 4))))
      (local.set $m (i32.sub (local.get $m) (i32.const 4)))
      (br_if $rows (i32.gt_s (local.get $m) (i32.const 0)))))

  ;; im2col: writes `rows` patch rows (taps in (kh, kw, c) order, zeros over the padding)
  ;; to `dst`, one every tapRowBytes * filterHeight + rowGap bytes (rowGap: the bytes between
  ;; one row's end and the next row, as A's leading dimension leaves them), from output
  ;; position (image, outRow, outCol) on. The input is addressed by
  ;; float strides per image, input row, input column and channel, so one loop serves NHWC
  ;; (channels contiguous: whole runs are block copies) and NCHW (one float at a time).
  (func $im2col (export "im2col") (param $x i32) (param $dst i32) (param $rowGap i32)
      (param $rows i32) (param $image i32) (param $outRow i32) (param $outCol i32)
      (param $imageStep i32) (param $rowStep i32) (param $colStep i32) (param $channelStep i32)
      (param $inHeight i32) (param $inWidth i32) (param $inChannels i32)
      (param $outHeight i32) (param $outWidth i32) (param $filterHeight i32)
      (param $filterWidth i32) (param $strideHeight i32) (param $strideWidth i32)
      (param $dilationHeight i32) (param $dilationWidth i32) (param $padTop i32)
      (param $padLeft i32)
    (local $tapBytes i32) (local $tapRowBytes i32) (local $inRow0 i32) (local $inCol0 i32)
    (local $kwFirst i32) (local $kwEnd i32) (local $kh i32) (local $kw i32) (local $c i32)
    (local $inRow i32) (local $base i32) (local $src i32) (local $to i32) (local $reach i32)
    (local $span i32)
    (local.set $tapBytes (i32.shl (local.get $inChannels) (i32.const 2)))
    (local.set $tapRowBytes (i32.mul (local.get $tapBytes) (local.get $filterWidth)))
    (local.set $span (i32.add (i32.mul (i32.sub (local.get $filterWidth) (i32.const 1))
                                       (local.get $dilationWidth)) (i32.const 1)))
    (block $done
      (br_if $done (i32.eqz (local.get $rows)))
      (loop $row
        (local.set $inRow0 (i32.sub (i32.mul (local.get $outRow) (local.get $strideHeight))
                                    (local.get $padTop)))
        (local.set $inCol0 (i32.sub (i32.mul (local.get $outCol) (local.get $strideWidth))
                                    (local.get $padLeft)))
        ;; Taps kw in [kwFirst, kwEnd) read inside the row; the others read padding.
        (local.set $kwFirst (i32.const 0))
        (if (i32.lt_s (local.get $inCol0) (i32.const 0))
          (then (local.set $kwFirst (i32.div_u
              (i32.add (i32.sub (i32.const 0) (local.get $inCol0))
                       (i32.sub (local.get $dilationWidth) (i32.const 1)))
              (local.get $dilationWidth)))))
        (if (i32.gt_u (local.get $kwFirst) (local.get $filterWidth))
          (then (local.set $kwFirst (local.get $filterWidth))))
        ;; A window that ends inside the row (most) needs no division.
        (local.set $reach (i32.sub (local.get $inWidth) (local.get $inCol0)))
        (local.set $kwEnd (local.get $filterWidth))
        (if (i32.lt_s (local.get $reach) (local.get $span))
          (then
            (local.set $kwEnd (i32.const 0))
            (if (i32.gt_s (local.get $reach) (i32.const 0))
              (then (local.set $kwEnd (i32.div_u
                  (i32.add (local.get $reach) (i32.sub (local.get $dilationWidth) (i32.const 1)))
                  (local.get $dilationWidth)))))
            (if (i32.gt_u (local.get $kwEnd) (local.get $filterWidth))
              (then (local.set $kwEnd (local.get $filterWidth))))))
        (if (i32.lt_u (local.get $kwEnd) (local.get $kwFirst))
          (then (local.set $kwEnd (local.get $kwFirst))))
        (local.set $kh (i32.const 0))
        (loop $tapRow
          (local.set $inRow (i32.add (local.get $inRow0)
                                     (i32.mul (local.get $kh) (local.get $dilationHeight))))
          (if (i32.ge_u (local.get $inRow) (local.get $inHeight))  ;; also catches inRow < 0
            (then (memory.fill (local.get $dst) (i32.const 0) (local.get $tapRowBytes)))
            (else
              (if (local.get $kwFirst)
                (then (memory.fill (local.get $dst) (i32.const 0)
                                   (i32.mul (local.get $kwFirst) (local.get $tapBytes)))))
              (local.set $base (i32.add (local.get $x) (i32.shl (i32.add
                  (i32.mul (local.get $image) (local.get $imageStep))
                  (i32.mul (local.get $inRow) (local.get $rowStep))) (i32.const 2))))
              (local.set $to (i32.add (local.get $dst)
                                      (i32.mul (local.get $kwFirst) (local.get $tapBytes))))
              (if (i32.ne (local.get $channelStep) (i32.const 1))
                (then
                  ;; Channels apart (NCHW): gather one float at a time.
                  (local.set $kw (local.get $kwFirst))
                  (block $gathered (loop $gather
                    (br_if $gathered (i32.ge_u (local.get $kw) (local.get $kwEnd)))
                    (local.set $src (i32.add (local.get $base) (i32.shl (i32.mul
                        (i32.add (local.get $inCol0)
                                 (i32.mul (local.get $kw) (local.get $dilationWidth)))
                        (local.get $colStep)) (i32.const 2))))
                    (local.set $c (i32.const 0))
                    (loop $channel
                      (f32.store (local.get $to) (f32.load (local.get $src)))
                      (local.set $to (i32.add (local.get $to) (i32.const 4)))
                      (local.set $src (i32.add (local.get $src)
                                               (i32.shl (local.get $channelStep) (i32.const 2))))
                      (local.set $c (i32.add (local.get $c) (i32.const 1)))
                      (br_if $channel (i32.lt_u (local.get $c) (local.get $inChannels))))
                    (local.set $kw (i32.add (local.get $kw) (i32.const 1)))
                    (br $gather))))
                (else (if (i32.eq (local.get $dilationWidth) (i32.const 1))
                  (then
                    ;; Undilated taps of one filter row are one run of the input row.
                    (call $copyBytes (local.get $to)
                        (i32.add (local.get $base) (i32.mul (i32.add (local.get $inCol0)
                            (local.get $kwFirst)) (local.get $tapBytes)))
                        (i32.mul (i32.sub (local.get $kwEnd) (local.get $kwFirst))
                                 (local.get $tapBytes)))
                    (local.set $to (i32.add (local.get $to) (i32.mul (i32.sub (local.get $kwEnd)
                        (local.get $kwFirst)) (local.get $tapBytes)))))
                  (else
                    (local.set $kw (local.get $kwFirst))
                    (block $copied (loop $copy
                      (br_if $copied (i32.ge_u (local.get $kw) (local.get $kwEnd)))
                      (call $copyBytes (local.get $to)
                          (i32.add (local.get $base) (i32.mul (i32.add (local.get $inCol0)
                              (i32.mul (local.get $kw) (local.get $dilationWidth)))
                              (local.get $tapBytes)))
                          (local.get $tapBytes))
                      (local.set $to (i32.add (local.get $to) (local.get $tapBytes)))
                      (local.set $kw (i32.add (local.get $kw) (i32.const 1)))
                      (br $copy)))))))
              (if (i32.lt_u (local.get $kwEnd) (local.get $filterWidth))
                (then (memory.fill (local.get $to) (i32.const 0)
                    (i32.mul (i32.sub (local.get $filterWidth) (local.get $kwEnd))
                             (local.get $tapBytes)))))))
          (local.set $dst (i32.add (local.get $dst) (local.get $tapRowBytes)))
          (local.set $kh (i32.add (local.get $kh) (i32.const 1)))
          (br_if $tapRow (i32.lt_u (local.get $kh) (local.get $filterHeight))))
        (local.set $dst (i32.add (local.get $dst) (local.get $rowGap)))
        ;; Next output position, row-major within an image, then the next image.
        (local.set $outCol (i32.add (local.get $outCol) (i32.const 1)))
        (if (i32.eq (local.get $outCol) (local.get $outWidth))
          (then
            (local.set $outCol (i32.const 0))
            (local.set $outRow (i32.add (local.get $outRow) (i32.const 1)))
            (if (i32.eq (local.get $outRow) (local.get $outHeight))
              (then
                (local.set $outRow (i32.const 0))
                (local.set $image (i32.add (local.get $image) (i32.const 1)))))))
        (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
        (br_if $row (local.get $rows)))))

  ;; A depthwise convolution's rows in micro-tiles small enough to stay in L1: im2col writes
  ;; microRows patch rows (at most; a multiple of 4) to $a, then channelwise multiplies them,
  ;; once per filter column j of the channel multiplier (W block j is taps·cPad floats from
  ;; $w on, C columns j·cPad on, cPad the channels rounded up to 4), C rows from $c on, ldc
  ;; floats apart. The other parameters are im2col's, for one image (image 0, imageStep 0).
  (func $im2colChannelwise (export "im2colChannelwise") (param $x i32) (param $a i32) (param $rows i32)
      (param $microRows i32) (param $outRow i32) (param $outCol i32) (param $rowStep i32)
      (param $colStep i32) (param $channelStep i32) (param $inHeight i32) (param $inWidth i32)
      (param $inChannels i32) (param $outHeight i32) (param $outWidth i32)
      (param $filterHeight i32) (param $filterWidth i32) (param $strideHeight i32)
      (param $strideWidth i32) (param $dilationHeight i32) (param $dilationWidth i32)
      (param $padTop i32) (param $padLeft i32) (param $w i32) (param $c i32) (param $ldc i32)
      (param $multiplier i32)
    (local $n i32) (local $taps i32) (local $lda i32) (local $cPadBytes i32) (local $j i32)
    (local.set $taps (i32.mul (local.get $filterHeight) (local.get $filterWidth)))
    (local.set $lda (i32.mul (local.get $taps) (local.get $inChannels)))
    (local.set $cPadBytes (i32.and (i32.add (i32.shl (local.get $inChannels) (i32.const 2))
                                            (i32.const 12)) (i32.const -16)))
    (loop $tiles
      (local.set $n (select (local.get $microRows) (local.get $rows)
                            (i32.lt_u (local.get $microRows) (local.get $rows))))
      (call $im2col (local.get $x) (local.get $a) (i32.const 0) (local.get $n) (i32.const 0)
          (local.get $outRow) (local.get $outCol) (i32.const 0) (local.get $rowStep)
          (local.get $colStep) (local.get $channelStep) (local.get $inHeight)
          (local.get $inWidth) (local.get $inChannels) (local.get $outHeight)
          (local.get $outWidth) (local.get $filterHeight) (local.get $filterWidth)
          (local.get $strideHeight) (local.get $strideWidth) (local.get $dilationHeight)
          (local.get $dilationWidth) (local.get $padTop) (local.get $padLeft))
      (local.set $j (i32.const 0))
      (loop $columns
        (call $channelwise (local.get $a) (local.get $lda)
            (i32.add (local.get $w) (i32.mul (i32.mul (local.get $j) (local.get $taps))
                                             (local.get $cPadBytes)))
            (i32.add (local.get $c) (i32.mul (local.get $j) (local.get $cPadBytes)))
            (local.get $ldc) (i32.and (i32.add (local.get $n) (i32.const 3)) (i32.const -4))
            (local.get $taps) (local.get $inChannels))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br_if $columns (i32.lt_u (local.get $j) (local.get $multiplier))))
      (local.set $c (i32.add (local.get $c)
          (i32.shl (i32.mul (local.get $n) (local.get $ldc)) (i32.const 2))))
      (local.set $outCol (i32.add (local.get $outCol) (local.get $n)))
      (local.set $outRow (i32.add (local.get $outRow)
                                  (i32.div_u (local.get $outCol) (local.get $outWidth))))
      (local.set $outCol (i32.rem_u (local.get $outCol) (local.get $outWidth)))
      (local.set $rows (i32.sub (local.get $rows) (local.get $n)))
      (br_if $tiles (local.get $rows))))
{{threads}}
)
