package mqtt

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/mqtt/mqtttest"
)

// typicalAnalysis is an analysis event as a busy scene gives it: five
// objects, three people, five tags (about 1 KB of JSON).
func typicalAnalysis() *event.Analysis {
	box := analyzer.BoundingBox{X: 120, Y: 80, W: 64, H: 180}
	a := &analyzer.Analysis{Metadata: analyzer.Metadata{Width: 1280, Height: 720}, ModelVersion: "yolox_nano.onnx@c789161e"}
	for _, name := range []string{"person", "person", "person", "bottle", "chair"} {
		a.Objects = append(a.Objects, analyzer.Object{Name: name, Confidence: 0.87, BoundingBox: box})
	}
	for range 3 {
		a.People = append(a.People, analyzer.Person{Confidence: 0.91, BoundingBox: box})
	}
	for _, name := range []string{"indoor", "person", "floor", "wall", "clothing"} {
		a.Tags = append(a.Tags, analyzer.Tag{Name: name, Confidence: 0.95})
	}
	return &event.Analysis{Header: event.Header{Type: event.TypeAnalysis, TMS: 1234.5, Camera: "line-3"},
		At: event.AtFrame(4711, 188*time.Second), Source: "local", LatencyMS: 23.4, Data: a}
}

// cpuTime is the CPU the process has used, all threads (the broker, a
// process of its own, is not counted).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// The whole cost to Sightline of one event through MQTT: encoding,
// queueing and publishing it with QoS 1 until the broker's PUBACK; and,
// with the broker away, encoding and appending it to the spool file.
//
//	go test ./internal/mqtt -run '^$' -bench SinkPublish -benchtime 5000x
func BenchmarkSinkPublish(b *testing.B) {
	e := typicalAnalysis()
	payload, _ := marshal(e)
	b.Run("delivered", func(b *testing.B) {
		broker := mqtttest.Start(b, mqtttest.Options{})
		s := benchSink(b, broker.URL())
		for !s.Status().Connected {
			time.Sleep(time.Millisecond)
		}
		cpu0, wall0 := cpuTime(), time.Now()
		for range b.N {
			s.Publish(e)
		}
		for s.Counters().Delivered < int64(b.N) {
			time.Sleep(100 * time.Microsecond)
		}
		cpu, wall := cpuTime()-cpu0, time.Since(wall0)
		b.StopTimer()
		b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/event")
		b.ReportMetric(float64(b.N)/wall.Seconds(), "delivered/s")
		b.ReportMetric(float64(len(payload)), "payload-bytes")
	})
	b.Run("spilled while the broker is away", func(b *testing.B) {
		s := benchSink(b, "mqtt://127.0.0.1:1") // nothing listens on port 1
		cpu0 := cpuTime()
		for range b.N {
			s.Publish(e)
		}
		cpu := cpuTime() - cpu0
		b.StopTimer()
		if c := s.Counters(); c.Spilled < int64(b.N)-1000 {
			b.Fatalf("spilled %d of %d", c.Spilled, b.N)
		}
		b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/event")
	})
}

func benchSink(b *testing.B, url string) *Sink {
	s, err := New(Config{URL: url, Camera: "line-3", SpoolDir: b.TempDir(), MemoryBytes: 1 << 20})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = s.Close(ctx)
	})
	b.ReportAllocs()
	b.ResetTimer()
	return s
}
