;; hello: a hand-written core module for the enoki:faas `function` world; answers 200 "hello from wat".
;;
;; It follows the canonical ABI by hand, which is what a guest toolchain normally generates:
;; - `handle(req: request) -> result<response, string>`: the request record flattens to 10 i32s
;;   (five strings/lists, each a pointer and a length), within MAX_FLAT_PARAMS = 16, so they come
;;   as parameters, copied into this memory through `cabi_realloc`. The result flattens to more
;;   than MAX_FLAT_RESULTS = 1 value, so `handle` returns a pointer to it in memory.
;; - result<response, string> in memory: tag u8 at +0 (0 = ok), the response at +4 (its
;;   alignment): status u16 at +4, headers list (ptr, len) at +8, body list (ptr, len) at +16.
;;   A header is tuple<string, string>: (name ptr, name len, value ptr, value len), 16 bytes.
;; - The answer never changes, so it lives in data segments and `handle` only returns its address.
;; - Memory below 1024 is static; `cabi_realloc` bumps from 1024 for the request's strings and
;;   `cabi_post_...` (called once the host has read the result) rewinds it, so nothing leaks.
;; It imports only `log` (a component may import a subset of its world) and logs each call.
(module
  (import "enoki:faas/log@0.1.0" "write" (func $log_write (param i32 i32 i32)))

  (memory (export "memory") 1)

  (global $heap_base i32 (i32.const 1024))
  (global $heap (mut i32) (i32.const 1024))

  (data (i32.const 16) "content-type")               ;; 12 bytes
  (data (i32.const 32) "text/plain; charset=utf-8")  ;; 25 bytes
  (data (i32.const 64) "hello from wat\n")           ;; 15 bytes
  (data (i32.const 80) "hello called")               ;; 12 bytes, the log line
  ;; the one header: name (16, 12), value (32, 25)
  (data (i32.const 96) "\10\00\00\00\0c\00\00\00\20\00\00\00\19\00\00\00")
  ;; the result: ok, status 200, headers (96, 1), body (64, 15)
  (data (i32.const 112)
    "\00\00\00\00" "\c8\00\00\00" "\60\00\00\00\01\00\00\00" "\40\00\00\00\0f\00\00\00")

  (func (export "enoki:faas/handler@0.1.0#handle")
    (param $method_ptr i32) (param $method_len i32)
    (param $path_ptr i32) (param $path_len i32)
    (param $query_ptr i32) (param $query_len i32)
    (param $headers_ptr i32) (param $headers_len i32)
    (param $body_ptr i32) (param $body_len i32)
    (result i32)
    ;; level `info` is case 1 of the `level` enum
    (call $log_write (i32.const 1) (i32.const 80) (i32.const 12))
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
