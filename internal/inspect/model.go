package inspect

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/local"
	"github.com/sightline/sightline/internal/scene"
)

// model is a loaded classifier (or detector), shared by the points that
// name it.
type model struct {
	pred     analyzer.Predictor
	detector bool
	cloud    bool
	close    func() error // local exports; nil for the cloud
}

// source is the analysis_error source of the model's failures.
func (m *model) source() string {
	if m.cloud {
		return analyzer.SourceCloud
	}
	return analyzer.SourceLocal
}

// detecting is what a predictor that can tell says: Custom Vision exports
// (local.CustomVision) know whether they are detectors.
type detecting interface{ IsDetector() bool }

// loadModels loads each distinct model of points once: a folder (by its
// absolute path) or a cloud iteration (by project and published name).
// On error it closes what it loaded.
func loadModels(points []scene.Inspection, cloud CloudFunc) (perPoint, all []*model, err error) {
	loaded := map[string]*model{}
	for _, p := range points {
		key, err := modelKey(p.Model)
		if err != nil {
			closeModels(all)
			return nil, nil, fmt.Errorf("inspection %q: %w", p.Name, err)
		}
		m, ok := loaded[key]
		if !ok {
			if m, err = openModel(p.Model, cloud); err != nil {
				closeModels(all)
				return nil, nil, fmt.Errorf("inspection %q: %w", p.Name, err)
			}
			loaded[key] = m
			all = append(all, m)
		}
		perPoint = append(perPoint, m)
	}
	return perPoint, all, nil
}

func modelKey(m scene.InspectionModel) (string, error) {
	if m.Dir == "" {
		return "cloud\x00" + m.Project + "\x00" + m.PublishedName, nil
	}
	abs, err := filepath.Abs(m.Dir)
	if err != nil {
		return "", fmt.Errorf("model %s: %w", m.Dir, err)
	}
	return "dir\x00" + abs, nil
}

func openModel(m scene.InspectionModel, cloud CloudFunc) (*model, error) {
	if m.Dir != "" {
		cv, err := local.NewCustomVision(m.Dir)
		if err != nil {
			return nil, fmt.Errorf("the model does not load: %w", err)
		}
		return &model{pred: cv, detector: cv.IsDetector(), close: cv.Close}, nil
	}
	if cloud == nil {
		return nil, errors.New("the model is a cloud project, and no Custom Vision prediction resource is configured")
	}
	p, err := cloud(m.Project, m.PublishedName)
	if err != nil {
		return nil, fmt.Errorf("cloud model %s/%s: %w", m.Project, m.PublishedName, err)
	}
	d, ok := p.(detecting)
	return &model{pred: p, detector: ok && d.IsDetector(), cloud: true}, nil
}

func closeModels(ms []*model) {
	for _, m := range ms {
		if m.close != nil {
			m.close()
		}
	}
}

// predict runs the model on crop, turning a panic into an error: a
// crashing model must not take the frame loop down.
func (m *model) predict(ctx context.Context, crop gocv.Mat) (preds []analyzer.Prediction, err error) {
	defer func() {
		if r := recover(); r != nil {
			preds, err = nil, fmt.Errorf("the classifier crashed: %v", r)
		}
	}()
	return m.pred.Predict(ctx, analyzer.Image{Mat: crop}, m.detector)
}
