package cli

// #include <malloc.h>
import "C"

import "os"

// glibc gives each thread that allocates its own malloc arena, up to eight
// a core, and keeps what those arenas freed. FFmpeg's and ONNX Runtime's
// threads come and go with every stream reconnect, so a camera that drops
// now and then grew RSS by 20 % in half an hour (192 → 230 MiB, 29
// reconnects) without leaking anything; two arenas held it to 2 % (make
// soak). A MALLOC_ARENA_MAX the user set wins.
func init() {
	if os.Getenv("MALLOC_ARENA_MAX") == "" {
		C.mallopt(C.M_ARENA_MAX, 2)
	}
}
