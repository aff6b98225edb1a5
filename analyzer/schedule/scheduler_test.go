package schedule_test

import (
	"context"
	"fmt"
	"image"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/azure"
	"github.com/sightline/sightline/analyzer/azure/azuretest"
	"github.com/sightline/sightline/analyzer/local"
	"github.com/sightline/sightline/analyzer/schedule"
	"github.com/sightline/sightline/internal/clock"
	"github.com/sightline/sightline/internal/deps"
	"github.com/sightline/sightline/overlay"
)

const demoVideo = deps.DemoVideo

// clockStart is when the tests' fake clocks begin.
var clockStart = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

// frames reads the first n frames of the demo video.
func frames(t testing.TB, n int) []gocv.Mat {
	t.Helper()
	cap, err := gocv.VideoCaptureFile(demoVideo)
	if err != nil {
		t.Fatal(err)
	}
	defer cap.Close()
	var out []gocv.Mat
	for range n {
		m := gocv.NewMat()
		if !cap.Read(&m) || m.Empty() {
			m.Close()
			t.Fatalf("demo video has fewer than %d frames", n)
		}
		out = append(out, m)
	}
	t.Cleanup(func() {
		for _, m := range out {
			m.Close()
		}
	})
	return out
}

// otherScene is a frame of the same size showing something else.
func otherScene(t testing.TB, like gocv.Mat) gocv.Mat {
	src := gocv.IMRead("/usr/share/doc/opencv-doc/examples/data/messi5.jpg", gocv.IMReadColor)
	defer src.Close()
	m := gocv.NewMat()
	gocv.Resize(src, &m, image.Pt(like.Cols(), like.Rows()), 0, 0, gocv.InterpolationLinear)
	t.Cleanup(func() { m.Close() })
	return m
}

func cloudClient(t testing.TB, srv *azuretest.Server) *azure.VisionClient {
	t.Helper()
	c, err := azure.NewVisionClient(srv.URL, srv.Key, &azure.VisionOptions{ClientOptions: azure.ClientOptions{Retries: azure.NoRetries}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// recorder collects what the scheduler reports.
type recorder struct {
	latest   analyzer.Latest // what the overlay would draw
	mu       sync.Mutex
	results  []*analyzer.Result
	backends []string
	reasons  []string
}

func (r *recorder) result(res *analyzer.Result) {
	r.latest.Add(res)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.results = append(r.results, res)
}

func (r *recorder) backend(b, why string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.backends = append(r.backends, b)
	r.reasons = append(r.reasons, why)
}

// merged is what the overlay would draw at now.
func (r *recorder) merged(now time.Time) analyzer.Merged { return r.latest.Merged(now) }

func (r *recorder) count(source string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, x := range r.results {
		if x.Source == source && x.Err == nil {
			n++
		}
	}
	return n
}

// play offers frame(i) at fps for d of simulated time, waiting for each
// offer's analyses so the run is deterministic.
func play(s *schedule.Scheduler, clk *clock.Fake, fps float64, d time.Duration, frame func(i int) gocv.Mat) {
	step := time.Duration(float64(time.Second) / fps)
	for i := 0; time.Duration(i)*step < d; i++ {
		s.Offer(schedule.Frame{Seq: int64(i), PTS: time.Duration(i) * step, Mat: frame(i)})
		s.Wait()
		clk.Advance(step)
	}
}

func TestStaticSceneCostsOneCallPerTTL(t *testing.T) {
	srv := azuretest.New(t, azuretest.Lenient())
	clk := clock.NewFake(clockStart)
	var rec recorder
	s := schedule.New(context.Background(), schedule.Options{
		Cloud: cloudClient(t, srv), Mode: schedule.ModeCloud,
		Features: analyzer.Features{analyzer.FeatureCaption, analyzer.FeatureTags},
		CacheTTL: time.Minute, Clock: clk, OnResult: rec.result, OnBackend: rec.backend,
	})
	defer s.Close()
	still := frames(t, 1)[0]
	play(s, clk, 30, 10*time.Minute, func(int) gocv.Mat { return still })

	st := s.Stats()
	if st.Cloud.Calls > 10 || st.Cloud.Calls < 9 {
		t.Errorf("%d cloud calls for a still scene over 10 min with a 1 min TTL, want 10", st.Cloud.Calls)
	}
	if srv.Count() != int(st.Cloud.Calls) {
		t.Errorf("server saw %d requests, scheduler counted %d", srv.Count(), st.Cloud.Calls)
	}
	// The rest of the cloud's turns (every 3 s at 20/min) came from the cache.
	if st.Cloud.CacheHits < 180 || rec.count(analyzer.SourceCache) != int(st.Cloud.CacheHits) {
		t.Errorf("%d cache hits (%d reported), want ~190", st.Cloud.CacheHits, rec.count(analyzer.SourceCache))
	}
	if st.Cloud.Errors != 0 {
		t.Errorf("%d errors", st.Cloud.Errors)
	}
}

func TestSceneChangeTriggersCall(t *testing.T) {
	srv := azuretest.New(t, azuretest.Lenient())
	clk := clock.NewFake(clockStart)
	s := schedule.New(context.Background(), schedule.Options{
		Cloud: cloudClient(t, srv), Mode: schedule.ModeCloud,
		Features: analyzer.Features{analyzer.FeatureCaption},
		CacheTTL: 10 * time.Minute, Clock: clk,
	})
	defer s.Close()
	still := frames(t, 1)[0]
	other := otherScene(t, still)
	play(s, clk, 30, 30*time.Second, func(int) gocv.Mat { return still })
	if n := s.Stats().Cloud.Calls; n != 1 {
		t.Fatalf("%d calls for 30 s of a still scene, want 1", n)
	}
	// The scene changes: a call within one cloud interval (3 s at 20/min).
	play(s, clk, 30, 3*time.Second, func(int) gocv.Mat { return other })
	if n := s.Stats().Cloud.Calls; n != 2 {
		t.Fatalf("%d calls after the scene changed, want 2", n)
	}
	// Back to the first scene: still cached.
	play(s, clk, 30, 30*time.Second, func(int) gocv.Mat { return still })
	if n := s.Stats().Cloud.Calls; n != 2 {
		t.Errorf("%d calls after returning to a cached scene, want 2", n)
	}
}

func TestCloudThrottledSwitchesToLocalAndBack(t *testing.T) {
	srv := azuretest.New(t, azuretest.Lenient())
	srv.Enqueue(azuretest.Throttled("10"), azuretest.Throttled("10"), azuretest.Throttled("10"))
	clk := clock.NewFake(clockStart)
	var rec recorder
	b := local.New(local.Options{})
	defer b.Close()
	s := schedule.New(context.Background(), schedule.Options{
		Local: b, Cloud: cloudClient(t, srv), Mode: schedule.ModeAuto,
		Features: analyzer.Features{analyzer.FeatureObjects, analyzer.FeaturePeople, analyzer.FeatureTags, analyzer.FeatureCaption},
		LocalFPS: 2, Clock: clk, OnResult: rec.result, OnBackend: rec.backend,
	})
	defer s.Close()
	fs := frames(t, 30)
	frame := func(i int) gocv.Mat { return fs[i%len(fs)] }

	play(s, clk, 30, time.Second, frame)
	if got := rec.backends; len(got) < 2 || got[0] != "azure" || got[1] != "local" {
		t.Fatalf("backends %v, want azure then local after the 429", got)
	}
	// Local analysis goes on while the cloud is throttled, and local takes
	// over the tags.
	play(s, clk, 30, 20*time.Second, frame)
	if m := rec.merged(clk.Now()); s.Stats().Active != "local" || m.Tags == nil || len(m.People) == 0 {
		t.Errorf("while throttled: active %s, tags %v, people %d", s.Stats().Active, m.Tags, len(m.People))
	}
	play(s, clk, 30, 2*time.Minute, frame)
	if got := rec.backends; len(got) != 3 || got[2] != "azure" {
		t.Fatalf("backends %v (reasons %q), want a switch back to azure", got, rec.reasons)
	}
	st := s.Stats()
	if st.Cloud.Errors != 3 || srv.Count() != int(st.Cloud.Calls) {
		t.Errorf("cloud errors %d, calls %d, server saw %d", st.Cloud.Errors, st.Cloud.Calls, srv.Count())
	}
	if rec.count(analyzer.SourceLocal) < 250 {
		t.Errorf("%d local analyses in 141 s at 2/s", rec.count(analyzer.SourceLocal))
	}
	// Retry-After was honoured: the attempts after each 429 came ≥ 10 s later.
	var attempts []time.Time
	for _, r := range rec.results {
		if r.Source == analyzer.SourceCloud {
			attempts = append(attempts, r.Finished)
		}
	}
	for i := 1; i < 4 && i < len(attempts); i++ {
		if gap := attempts[i].Sub(attempts[i-1]); gap < 10*time.Second {
			t.Errorf("attempt %d came %v after a 429 asking for 10 s", i, gap)
		}
	}
	m := rec.merged(clk.Now())
	if m.Caption == nil || len(m.People) == 0 || m.CloudSource == "" {
		t.Errorf("merged result after recovery: caption %v, people %d, cloud %q", m.Caption, len(m.People), m.CloudSource)
	}
}

// Moving the threshold re-filters the cached result: nothing is analysed.
func TestFilterChangeCausesNoAnalysis(t *testing.T) {
	clk := clock.NewFake(clockStart)
	var rec recorder
	b := local.New(local.Options{})
	defer b.Close()
	s := schedule.New(context.Background(), schedule.Options{
		Local: b, Mode: schedule.ModeLocal, Features: analyzer.Features{analyzer.FeatureObjects, analyzer.FeaturePeople},
		Options: analyzer.Options{Threshold: 0.05}, Clock: clk, OnResult: rec.result,
	})
	defer s.Close()
	f := frames(t, 1)[0]
	s.Offer(schedule.Frame{Seq: 0, PTS: 0, Mat: f})
	s.Wait()
	before := s.Stats()
	drawn := func(threshold float64) int {
		img := f.Clone()
		defer img.Close()
		overlay.Draw(&img, rec.merged(clk.Now()).Analysis, overlay.Filter{Threshold: threshold})
		diff := gocv.NewMat()
		defer diff.Close()
		gocv.AbsDiff(img, f, &diff)
		gray := gocv.NewMat()
		defer gray.Close()
		gocv.CvtColor(diff, &gray, gocv.ColorBGRToGray)
		return gocv.CountNonZero(gray)
	}
	low, high := drawn(0.1), drawn(0.8)
	if low <= high {
		t.Errorf("threshold 0.1 drew %d pixels, 0.8 drew %d", low, high)
	}
	if after := s.Stats(); after.Local.Calls != before.Local.Calls || after.FramesOffered != before.FramesOffered {
		t.Errorf("redrawing analysed again: %+v → %+v", before, after)
	}
}

// BenchmarkCloudCallsOnDemoVideo plays the demo video at its native rate
// (10 fps, simulated clock) through the auto scheduler with the loopback
// Azure service, and reports what the cloud cost against a naive caller
// that sends every frame.
//
//	go test ./analyzer -run X -bench CloudCalls -benchtime 1x
func BenchmarkCloudCallsOnDemoVideo(b *testing.B) {
	for b.Loop() {
		srv := azuretest.New(b, azuretest.Lenient())
		clk := clock.NewFake(clockStart)
		loc := local.New(local.Options{})
		s := schedule.New(context.Background(), schedule.Options{
			Local: loc, Cloud: cloudClient(b, srv), Mode: schedule.ModeAuto,
			Features: analyzer.Features{analyzer.FeatureObjects, analyzer.FeaturePeople, analyzer.FeatureTags, analyzer.FeatureCaption},
			LocalFPS: 1, Clock: clk,
		})
		cap, err := gocv.VideoCaptureFile(demoVideo)
		if err != nil {
			b.Fatal(err)
		}
		fps := cap.Get(gocv.VideoCaptureFPS)
		step := time.Duration(float64(time.Second) / fps)
		m := gocv.NewMat()
		frames := 0
		for cap.Read(&m) && !m.Empty() {
			s.Offer(schedule.Frame{Seq: int64(frames), PTS: time.Duration(frames) * step, Mat: m})
			s.Wait()
			clk.Advance(step)
			frames++
		}
		m.Close()
		cap.Close()
		s.Close()
		loc.Close()
		st := s.Stats()
		minutes := float64(frames) / fps / 60
		b.ReportMetric(float64(st.Cloud.Calls), "cloud_calls")
		b.ReportMetric(float64(st.Cloud.Calls)/minutes, "calls/min")
		b.ReportMetric(st.HitRate(), "cache_hit_rate")
		b.ReportMetric(float64(frames), "naive_calls")
		b.ReportMetric(float64(frames)/float64(st.Cloud.Calls), "naive/ours")
	}
}

// With privacy on, what reaches the cloud has its faces pixelated.
func TestPrivacyBlursFacesBeforeUpload(t *testing.T) {
	srv := azuretest.New(t, azuretest.Lenient())
	b := local.New(local.Options{})
	defer b.Close()
	img := gocv.IMRead("../../../shared/azure/images/azure-ai-vision-sdk_sample.jpg", gocv.IMReadColor)
	defer img.Close()
	faces, err := b.Faces(img)
	if err != nil || len(faces) != 1 {
		t.Fatalf("faces in the sample: %v %v", faces, err)
	}
	face := faces[0].BoundingBox
	for _, privacy := range []bool{false, true} {
		opts := schedule.Options{Cloud: cloudClient(t, srv), Mode: schedule.ModeCloud,
			Features: analyzer.Features{analyzer.FeatureCaption}, CacheTTL: -1}
		if privacy {
			opts.Cloud = analyzer.WithPrivacy(opts.Cloud, b)
		}
		s := schedule.New(context.Background(), opts)
		s.Offer(schedule.Frame{Seq: 0, PTS: 0, Mat: img})
		s.Wait()
		s.Close()
		sent, err := gocv.IMDecode(srv.Last().Image, gocv.IMReadColor)
		if err != nil || sent.Empty() {
			t.Fatalf("uploaded image unreadable: %v", err)
		}
		// Detail inside the face: the sum of differences between
		// neighbouring pixels, which pixelation flattens.
		detail := func(m gocv.Mat) float64 {
			roi := m.Region(image.Rect(face.X, face.Y, face.X+face.W, face.Y+face.H))
			defer roi.Close()
			dx := gocv.NewMat()
			defer dx.Close()
			gocv.Sobel(roi, &dx, gocv.MatTypeCV16S, 1, 0, 1, 1, 0, gocv.BorderDefault)
			abs := gocv.NewMat()
			defer abs.Close()
			gocv.ConvertScaleAbs(dx, &abs, 1, 0)
			return abs.Mean().Val1
		}
		got, orig := detail(sent), detail(img)
		sent.Close()
		if privacy && got > orig/2 {
			t.Errorf("privacy on: face detail %.1f uploaded vs %.1f original: not blurred", got, orig)
		}
		if !privacy && got < orig/2 {
			t.Errorf("privacy off: face detail %.1f uploaded vs %.1f original", got, orig)
		}
	}
}

// crashing wraps the real local backend and panics on every third frame,
// as a model with a bug in its post-processing might.
type crashing struct {
	analyzer.Analyzer
	mu sync.Mutex
	n  int
}

func (c *crashing) Analyze(ctx context.Context, img analyzer.Image, req analyzer.Request) (*analyzer.Analysis, error) {
	c.mu.Lock()
	c.n++
	n := c.n
	c.mu.Unlock()
	if n%3 == 0 {
		var boxes []analyzer.Object
		_ = boxes[n] // index out of range
	}
	return c.Analyzer.Analyze(ctx, img, req)
}

// A panic inside an analysis is recovered and reported; the pipeline goes on.
func TestAnalyzerPanicIsRecovered(t *testing.T) {
	b := local.New(local.Options{})
	defer b.Close()
	var rec recorder
	clk := clock.NewFake(clockStart)
	s := schedule.New(context.Background(), schedule.Options{
		Local: &crashing{Analyzer: b}, Mode: schedule.ModeLocal, Features: analyzer.Features{analyzer.FeatureObjects},
		WaitForLocal: true, Clock: clk, OnResult: rec.result,
	})
	defer s.Close()
	fs := frames(t, 9)
	play(s, clk, 10, 900*time.Millisecond, func(i int) gocv.Mat { return fs[i] })
	st := s.Stats()
	if st.Local.Calls != 9 || st.Local.Errors != 3 {
		t.Fatalf("calls %d, errors %d; want 9 and 3", st.Local.Calls, st.Local.Errors)
	}
	for _, r := range rec.results {
		if r.Err != nil && !strings.Contains(r.Err.Error(), "crashed") {
			t.Errorf("error %q does not say the analyzer crashed", r.Err)
		}
	}
	if m := rec.merged(clk.Now()); m.Frame != 7 || m.Objects == nil {
		t.Errorf("merged result from frame %d, want the last good one (7)", m.Frame)
	}
}

// overtaking wraps the real local backend so that every even call waits
// until the call after it has finished: later frames finish first, as
// they can when several analyses run at once.
type overtaking struct {
	analyzer.Analyzer
	mu      sync.Mutex
	calls   int
	done    map[int]chan struct{}
	running int
	most    int // the most analyses seen running at once
}

func (o *overtaking) Analyze(ctx context.Context, img analyzer.Image, req analyzer.Request) (*analyzer.Analysis, error) {
	o.mu.Lock()
	k := o.calls
	o.calls++
	o.running++
	o.most = max(o.most, o.running)
	next := o.doneOf(k + 1)
	mine := o.doneOf(k)
	o.mu.Unlock()
	defer func() {
		o.mu.Lock()
		o.running--
		o.mu.Unlock()
		close(mine)
	}()
	a, err := o.Analyzer.Analyze(ctx, img, req)
	if k%2 == 0 {
		select {
		case <-next:
		case <-time.After(5 * time.Second):
			return nil, fmt.Errorf("call %d: call %d never ran alongside it", k, k+1)
		}
	}
	return a, err
}

func (o *overtaking) doneOf(k int) chan struct{} {
	if o.done[k] == nil {
		o.done[k] = make(chan struct{})
	}
	return o.done[k]
}

// With two local workers, two frames are analysed at once, and results still
// come out in frame order, so `run` writes its analysis events in order and
// the overlay never steps back to an older frame.
func TestParallelLocalAnalysesKeepFrameOrder(t *testing.T) {
	b := local.New(local.Options{Threads: 1, Detectors: 2})
	defer b.Close()
	slow := &overtaking{Analyzer: b, done: map[int]chan struct{}{}}
	var rec recorder
	var merged []int64
	s := schedule.New(context.Background(), schedule.Options{
		Local: slow, Mode: schedule.ModeLocal, Features: analyzer.Features{analyzer.FeatureObjects},
		WaitForLocal: true, LocalWorkers: 2, OnResult: rec.result,
	})
	defer s.Close()
	fs := frames(t, 10)
	for i, f := range fs {
		s.Offer(schedule.Frame{Seq: int64(i), PTS: time.Duration(i) * 100 * time.Millisecond, Mat: f})
		merged = append(merged, rec.merged(time.Now()).Frame)
	}
	s.Wait()
	if slow.most != 2 {
		t.Errorf("at most %d analyses ran at once, want 2", slow.most)
	}
	if len(rec.results) != len(fs) {
		t.Fatalf("%d results for %d frames", len(rec.results), len(fs))
	}
	for i, r := range rec.results {
		if r.Err != nil || r.Frame != int64(i) || r.Objects == nil {
			t.Errorf("result %d: frame %d, err %v; want frame %d with objects", i, r.Frame, r.Err, i)
		}
	}
	if !slices.IsSorted(merged) {
		t.Errorf("the merged result stepped back to an older frame: %v", merged)
	}
	if m := rec.merged(time.Now()); m.Frame != 9 {
		t.Errorf("merged result from frame %d, want 9", m.Frame)
	}
}

// instant answers at once with no objects: a backend that costs nothing,
// for tests about the scheduler itself.
type instant struct{}

func (instant) Analyze(context.Context, analyzer.Image, analyzer.Request) (*analyzer.Analysis, error) {
	return &analyzer.Analysis{Objects: []analyzer.Object{}}, nil
}
func (instant) Supports(f analyzer.Feature) bool { return f == analyzer.FeatureObjects }
func (instant) Name() string                     { return "local" }

// Results are delivered outside the scheduler's lock: a callback that
// blocks (a slow disk behind --events) does not stall Offer, and one that
// asks for Stats does not deadlock.
func TestCallbacksRunOutsideTheLock(t *testing.T) {
	tests := []struct {
		name     string
		onResult func(s **schedule.Scheduler, release <-chan struct{}) func(*analyzer.Result)
	}{
		{"a callback that blocks", func(_ **schedule.Scheduler, release <-chan struct{}) func(*analyzer.Result) {
			return func(*analyzer.Result) { <-release }
		}},
		{"a callback that reads Stats", func(s **schedule.Scheduler, _ <-chan struct{}) func(*analyzer.Result) {
			return func(*analyzer.Result) { (*s).Stats() }
		}},
	}
	fs := frames(t, 1)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			release := make(chan struct{})
			var s *schedule.Scheduler
			s = schedule.New(context.Background(), schedule.Options{
				Local: instant{}, Mode: schedule.ModeLocal, Features: analyzer.Features{analyzer.FeatureObjects},
				WaitForLocal: true, OnResult: tt.onResult(&s, release),
			})
			offered := make(chan struct{})
			go func() {
				for i := range 50 {
					s.Offer(schedule.Frame{Seq: int64(i), Mat: fs[0]})
				}
				s.Stats()
				close(offered)
			}()
			select {
			case <-offered:
			case <-time.After(10 * time.Second):
				t.Fatal("Offer stalled behind the result callback")
			}
			close(release)
			s.Close()
			if st := s.Stats(); st.Local.Calls != 50 {
				t.Errorf("%d local analyses delivered, want 50", st.Local.Calls)
			}
		})
	}
}

// A failed cloud call is not billed, and its reason stays visible until
// the cloud answers again.
func TestCloudFailureIsNotBilledAndIsReported(t *testing.T) {
	srv := azuretest.New(t, azuretest.Lenient())
	srv.Enqueue(azuretest.Throttled("1"))
	clk := clock.NewFake(clockStart)
	s := schedule.New(context.Background(), schedule.Options{
		Cloud: cloudClient(t, srv), Mode: schedule.ModeCloud,
		Features: analyzer.Features{analyzer.FeatureCaption}, CacheTTL: -1, Clock: clk,
	})
	defer s.Close()
	f := frames(t, 1)[0]
	s.Offer(schedule.Frame{Mat: f})
	s.Wait()
	st := s.Stats()
	if st.Cloud.Calls != 1 || st.Cloud.Errors != 1 || st.CostUSD != 0 || !st.CloudDown {
		t.Fatalf("after a 429: calls %d errors %d cost %v down %v; want 1, 1, 0, true", st.Cloud.Calls, st.Cloud.Errors, st.CostUSD, st.CloudDown)
	}
	if st.Cloud.LastError == nil || !strings.Contains(st.Cloud.LastError.Error(), "429") {
		t.Errorf("last error %q does not name the 429", st.Cloud.LastError)
	}
	clk.Advance(time.Minute)
	s.Offer(schedule.Frame{Seq: 1, Mat: f})
	s.Wait()
	st = s.Stats()
	if st.Cloud.Calls != 2 || st.CostUSD <= 0 || st.Cloud.LastError != nil || st.CloudDown {
		t.Errorf("after the cloud answered: calls %d cost %v last error %q down %v", st.Cloud.Calls, st.CostUSD, st.Cloud.LastError, st.CloudDown)
	}
}
