package metrics

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/video/videotest"
)

// startPrometheus runs Debian's prometheus scraping target every 250 ms and
// returns its HTTP API's address. scripts/setup.sh installs prometheus.
func startPrometheus(t *testing.T, target string) string {
	t.Helper()
	if _, err := exec.LookPath("prometheus"); err != nil {
		t.Fatalf("prometheus is not installed (scripts/setup.sh installs it): %v", err)
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "prometheus.yml")
	yml := fmt.Sprintf("global:\n  scrape_interval: 250ms\n  scrape_timeout: 200ms\n"+
		"scrape_configs:\n  - job_name: sightline\n    static_configs:\n      - targets: ['%s']\n", target)
	if err := os.WriteFile(conf, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", videotest.FreePort(t))
	log, err := os.Create(filepath.Join(dir, "prometheus.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("prometheus", "--config.file="+conf, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		log.Close()
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return addr
			}
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(log.Name())
			t.Fatalf("prometheus not ready in 20 s: %v\n%s", err, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// query asks Prometheus for an instant vector's single value.
func query(addr, promQL string) (float64, error) {
	resp, err := http.Get("http://" + addr + "/api/v1/query?query=" + url.QueryEscape(promQL))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return 0, err
	}
	if r.Status != "success" || len(r.Data.Result) != 1 {
		return 0, fmt.Errorf("%s: status %s %s, %d results", promQL, r.Status, r.Error, len(r.Data.Result))
	}
	s, _ := r.Data.Result[0].Value[1].(string)
	return strconv.ParseFloat(s, 64)
}

// A real Prometheus scrapes a run: the rate of frames read and the latency
// quantiles it computes are the ones fed.
func TestPrometheusScrapesARun(t *testing.T) {
	const fps = 25 // frames read a second, as the source would count them
	start := time.Now()
	m := New("line-3", func() []Snapshot {
		return []Snapshot{{FramesRead: int64(fps * time.Since(start).Seconds())}}
	})
	srv := NewServer("127.0.0.1:0", m.Handler())
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close(context.Background()) })

	// Analyses: nine in ten take 8 ms, one 700 ms.
	ctx, stop := context.WithCancel(context.Background())
	var feeding sync.WaitGroup
	feeding.Add(1)
	go func() {
		defer feeding.Done()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			latency := 8.0
			if i%10 == 9 {
				latency = 700
			}
			m.Publish(&event.Analysis{Header: event.Header{Type: event.TypeAnalysis}, Source: "local", LatencyMS: latency})
			select {
			case <-tick.C:
			case <-ctx.Done():
				return
			}
		}
	}()
	defer func() { stop(); feeding.Wait() }()

	prom := startPrometheus(t, srv.Addr())
	checks := []struct {
		promQL string
		lo, hi float64
	}{
		{`rate(sightline_frames_read_total{camera="line-3"}[3s])`, fps * 0.9, fps * 1.1},
		// Within the bucket holding what was fed: (5 ms, 10 ms] and (0.5 s, 1 s].
		{`histogram_quantile(0.5, sum by (le) (rate(sightline_analysis_latency_seconds_bucket{source="local"}[3s])))`, 0.005, 0.010},
		{`histogram_quantile(0.95, sum by (le) (rate(sightline_analysis_latency_seconds_bucket{source="local"}[3s])))`, 0.5, 1},
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, c := range checks {
		for {
			v, err := query(prom, c.promQL)
			if err == nil && v >= c.lo && v <= c.hi {
				t.Logf("%s = %.4f", c.promQL, v)
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s = %v (%v), want %v..%v", c.promQL, v, err, c.lo, c.hi)
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
}
