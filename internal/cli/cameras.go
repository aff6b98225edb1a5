package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/sightline/sightline/analyzer/schedule"
	"github.com/sightline/sightline/internal/clip"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/pipeline"
	"github.com/sightline/sightline/internal/plant"
	"github.com/sightline/sightline/internal/scene"
)

// camera is one source of a run and what is built for it.
type camera struct {
	name   string
	source string
	scene  *scene.Config
	mode   schedule.Mode
	// everyFrame: a file read as fast as it decodes, every frame analysed.
	everyFrame bool
	schedule   schedule.Options
	p          *pipeline.Pipeline
	bus        *event.Bus
	clips      *clip.Clips
	snaps      *pipeline.Snapshots
}

// stringList is a flag that may be given several times.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// cameraFile is one camera of --cameras.
type cameraFile struct {
	Name    string `json:"name"`
	Source  string `json:"source"`
	Scene   string `json:"scene,omitempty"`
	Backend string `json:"backend,omitempty"`
}

// cameras are the run's cameras: those of --cameras, or one per --source
// (named after it, or --camera for one).
func (f *runFlags) cameras(name string) ([]*camera, error) {
	mode, err := schedule.ParseMode(f.backend)
	if err != nil {
		return nil, usagef("%v", err)
	}
	sc, err := sceneFlags(f.scene, f.track)
	if err != nil {
		return nil, err
	}
	switch {
	case f.camerasFile != "" && len(f.sources) > 0:
		return nil, usagef("--cameras or --source, not both")
	case f.camerasFile != "":
		return readCameras(f.camerasFile, mode, sc, f.track)
	case len(f.sources) == 0:
		return nil, usagef("--source is required (or --cameras FILE)")
	}
	var cams []*camera
	taken := map[string]bool{}
	for _, src := range f.sources {
		n := name
		if n == "" || len(f.sources) > 1 {
			n = uniqueCamera(plant.CameraName(src), taken)
		}
		taken[n] = true
		cams = append(cams, &camera{name: n, source: src, scene: sc, mode: mode})
	}
	return cams, nil
}

// readCameras reads a cameras.json: each camera's scene (a path relative
// to the file) and backend override the flags'.
func readCameras(path string, mode schedule.Mode, sc *scene.Config, track bool) ([]*camera, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef("--cameras: %v", err)
	}
	var list []cameraFile
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, usagef("--cameras %s: %v", path, err)
	}
	if len(list) == 0 {
		return nil, usagef("--cameras %s: no camera", path)
	}
	var cams []*camera
	taken := map[string]bool{}
	for i, cf := range list {
		c := &camera{name: cf.Name, source: cf.Source, scene: sc, mode: mode}
		switch {
		case cf.Name == "" || cf.Source == "":
			return nil, usagef("--cameras %s: camera %d needs a name and a source", path, i)
		case taken[cf.Name]:
			return nil, usagef("--cameras %s: two cameras are called %q", path, cf.Name)
		}
		taken[cf.Name] = true
		if cf.Backend != "" {
			if c.mode, err = schedule.ParseMode(cf.Backend); err != nil {
				return nil, usagef("--cameras %s: camera %q: %v", path, cf.Name, err)
			}
		}
		if cf.Scene != "" {
			if !filepath.IsAbs(cf.Scene) {
				cf.Scene = filepath.Join(filepath.Dir(path), cf.Scene)
			}
			if c.scene, err = sceneFlags(cf.Scene, track); err != nil {
				return nil, err
			}
		}
		cams = append(cams, c)
	}
	return cams, nil
}

// uniqueCamera is name, or name-2, -3… when it is taken.
func uniqueCamera(name string, taken map[string]bool) string {
	if !taken[name] {
		return name
	}
	for n := 2; ; n++ {
		if c := name + "-" + strconv.Itoa(n); !taken[c] {
			return c
		}
	}
}

// runCameras runs every camera's pipeline at once until each ends and, for
// several, publishes the run's one summary, last. One camera failing does
// not stop the others; the run's error joins theirs.
func runCameras(ctx context.Context, cams []*camera, bus *event.Bus) error {
	if len(cams) == 1 {
		return cams[0].p.Run(ctx)
	}
	errs := make([]error, len(cams))
	var wg sync.WaitGroup
	for i, c := range cams {
		wg.Go(func() {
			if err := c.p.Run(ctx); err != nil {
				errs[i] = fmt.Errorf("camera %s: %w", c.name, err)
			}
		})
	}
	wg.Wait()
	bus.Publish(combinedSummary(cams))
	return errors.Join(errs...)
}

// combinedSummary is a multi-camera run's summary: the cameras' counts
// added up, the slowest camera's latencies, each camera's own figures,
// and the scenes' totals under "camera/name".
func combinedSummary(cams []*camera) *event.Summary {
	sum := &event.Summary{Header: event.Header{Type: event.TypeSummary}, Cameras: map[string]event.CameraSummary{}}
	for _, c := range cams {
		s := c.p.Summary()
		if s == nil {
			continue
		}
		sum.FramesRead += s.FramesRead
		sum.FramesShown += s.FramesShown
		sum.FramesAnalyzed += s.FramesAnalyzed
		sum.CloudCalls += s.CloudCalls
		sum.CacheHits += s.CacheHits
		sum.Reconnects += s.Reconnects
		sum.Dropped += s.Dropped
		sum.ReadFPS += s.ReadFPS
		sum.AnalyzedFPS += s.AnalyzedFPS
		sum.LatencyP50, sum.LatencyP95 = max(sum.LatencyP50, s.LatencyP50), max(sum.LatencyP95, s.LatencyP95)
		sum.Analyses += s.Analyses
		sum.LocalAnalyses += s.LocalAnalyses
		sum.LocalErrors += s.LocalErrors
		sum.CloudErrors += s.CloudErrors
		sum.CostUSD += s.CostUSD
		sum.Cameras[c.name] = event.CameraSummary{FramesRead: s.FramesRead, FramesAnalyzed: s.FramesAnalyzed,
			AnalyzedFPS: s.AnalyzedFPS, Reconnects: s.Reconnects}
		prefixed(&sum.Tracks, s.Tracks, c.name)
		prefixed(&sum.Lines, s.Lines, c.name)
		prefixed(&sum.Zones, s.Zones, c.name)
		prefixed(&sum.Inspections, s.Inspections, c.name)
		for k, v := range s.OutputErrors {
			if sum.OutputErrors == nil {
				sum.OutputErrors = map[string]string{}
			}
			sum.OutputErrors[c.name+"/"+k] = v
		}
	}
	if n := sum.CloudCalls + sum.CacheHits; n > 0 {
		sum.CacheHitRate = float64(sum.CacheHits) / float64(n)
	}
	return sum
}

// prefixed adds a camera's totals to dst under "camera/name".
func prefixed[V any](dst *map[string]V, src map[string]V, camera string) {
	for k, v := range src {
		if *dst == nil {
			*dst = map[string]V{}
		}
		(*dst)[camera+"/"+k] = v
	}
}
