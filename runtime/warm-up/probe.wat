;; The node's warm-up probe (warm-up.ts): a guest of the enoki:faas `function` world that logs one
;; line and answers 200 with the request's body and one header. Before a node listens it runs one
;; call of this through the node's invocation path, so that the first user's call after a start
;; does not pay for V8 compiling that path. Built into dist/ by `npm run build` (build-probe.ts).
;;
;; The canonical ABI by hand, as in functions/hello/hello.wat: the request's ten flat i32s are
;; parameters, its strings copied in through `cabi_realloc`; `handle` returns the address of
;; result<response, string>: tag at +0 (0 = ok), status u16 at +4, headers (ptr, len) at +8,
;; body (ptr, len) at +16. The body is the request's own, read by the host before
;; `cabi_post_...` rewinds the allocator.
(module
  (import "enoki:faas/log@0.1.0" "write" (func $log_write (param i32 i32 i32)))

  (memory (export "memory") 1)

  (global $heap_base i32 (i32.const 1024))
  (global $heap (mut i32) (i32.const 1024))

  (data (i32.const 16) "content-type")               ;; 12 bytes
  (data (i32.const 32) "application/octet-stream")   ;; 24 bytes
  (data (i32.const 80) "warm-up")                    ;; 7 bytes, the log line
  ;; the one header: name (16, 12), value (32, 24)
  (data (i32.const 96) "\10\00\00\00\0c\00\00\00\20\00\00\00\18\00\00\00")
  ;; the result: ok, status 200, headers (96, 1); the body is set per call
  (data (i32.const 112) "\00\00\00\00" "\c8\00\00\00" "\60\00\00\00\01\00\00\00")

  (func (export "enoki:faas/handler@0.1.0#handle")
    (param $method_ptr i32) (param $method_len i32)
    (param $path_ptr i32) (param $path_len i32)
    (param $query_ptr i32) (param $query_len i32)
    (param $headers_ptr i32) (param $headers_len i32)
    (param $body_ptr i32) (param $body_len i32)
    (result i32)
    ;; level `info` is case 1 of the `level` enum
    (call $log_write (i32.const 1) (i32.const 80) (i32.const 7))
    (i32.store (i32.const 128) (local.get $body_ptr))
    (i32.store (i32.const 132) (local.get $body_len))
    (i32.const 112))

  (func (export "cabi_post_enoki:faas/handler@0.1.0#handle") (param $result i32)
    (global.set $heap (global.get $heap_base)))

  ;; A bump allocator: align up, grow memory when needed, copy on reallocation.
  (func (export "cabi_realloc")
    (param $old i32) (param $old_size i32) (param $align i32) (param $new_size i32)
    (result i32)
    (local $ptr i32) (local $end i32) (local $have i32)
    (local.set $ptr
      (i32.and
        (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
        (i32.sub (i32.const 0) (local.get $align))))
    (local.set $end (i32.add (local.get $ptr) (local.get $new_size)))
    (if (i32.lt_u (local.get $end) (local.get $ptr)) (then unreachable))
    (local.set $have (i32.shl (memory.size) (i32.const 16)))
    (if (i32.gt_u (local.get $end) (local.get $have))
      (then
        (if (i32.eq
              (memory.grow
                (i32.shr_u
                  (i32.add (i32.sub (local.get $end) (local.get $have)) (i32.const 0xffff))
                  (i32.const 16)))
              (i32.const -1))
          (then unreachable))))
    (global.set $heap (local.get $end))
    (if (local.get $old)
      (then
        (memory.copy (local.get $ptr) (local.get $old)
          (select (local.get $old_size) (local.get $new_size)
            (i32.lt_u (local.get $old_size) (local.get $new_size))))))
    (local.get $ptr))
)
