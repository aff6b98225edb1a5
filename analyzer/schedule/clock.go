package schedule

import "time"

// Clock tells the time. The scheduler, budget and cache take one so tests
// pass times instead of sleeping (internal/clock has the real and fake ones).
type Clock interface{ Now() time.Time }
