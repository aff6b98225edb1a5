// Package backend builds the analysis backends from one configuration
// value: the command line fills it from flags and the environment, the app
// from its saved settings, and both get the same local models, Azure
// clients, privacy wrapping and defaults.
package backend

import (
	"errors"
	"fmt"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/azure"
	"github.com/sightline/sightline/analyzer/docrules"
	"github.com/sightline/sightline/analyzer/local"
	"github.com/sightline/sightline/analyzer/schedule"
)

// ErrConfig marks a configuration error: the command line exits 2 on it,
// the app shows it in Settings.
var ErrConfig = errors.New("configuration error")

func configf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, args...))
}

// Azure is one Azure resource and how to sign in to it.
type Azure struct {
	Endpoint string
	Key      string
	// Entra signs in with Microsoft Entra ID (the Azure SDK's default
	// credential chain) instead of the key.
	Entra bool
	// Retries of a failed call: 0 means none (the scheduler retries at its
	// own pace, inside the budget).
	Retries int
	// TryTimeout bounds one attempt (30 s when 0).
	TryTimeout time.Duration
	// Observe hears of every HTTP attempt (traces); nil: nobody.
	Observe func(azure.Attempt)
}

// Configured reports whether the resource and a way to sign in are known.
func (a Azure) Configured() bool { return a.Endpoint != "" && (a.Key != "" || a.Entra) }

func (a Azure) clientOptions() (azure.ClientOptions, error) {
	o := azure.ClientOptions{Retries: a.Retries, TryTimeout: a.TryTimeout, Observe: a.Observe}
	if a.Retries <= 0 {
		o.Retries = azure.NoRetries
	}
	if a.Entra {
		cred, err := azidentity.NewDefaultAzureCredential(nil)
		if err != nil {
			return o, configf("Microsoft Entra sign-in: %v", err)
		}
		o.Credential = cred
	}
	return o, nil
}

// Vision is the Image Analysis client of a.
func Vision(a Azure) (*azure.VisionClient, error) {
	if !a.Configured() {
		return nil, configf("the Azure backend needs VISION_ENDPOINT and VISION_KEY (or SIGHTLINE_AZURE_AUTH=entra)")
	}
	co, err := a.clientOptions()
	if err != nil {
		return nil, err
	}
	c, err := azure.NewVisionClient(a.Endpoint, a.Key, &azure.VisionOptions{ClientOptions: co})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return c, nil
}

// Prediction is the Custom Vision prediction client of a published
// iteration.
func Prediction(a Azure, project, published string, noStore bool) (*azure.PredictionClient, error) {
	if !a.Configured() {
		return nil, configf("the Azure backend needs CUSTOM_VISION_PREDICTION_ENDPOINT and CUSTOM_VISION_PREDICTION_KEY (or SIGHTLINE_AZURE_AUTH=entra)")
	}
	co, err := a.clientOptions()
	if err != nil {
		return nil, err
	}
	c, err := azure.NewPredictionClient(a.Endpoint, a.Key, project, published, &azure.PredictionOptions{NoStore: noStore, ClientOptions: co})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return c, nil
}

// Training is the Custom Vision training client of a, for train and the
// app's training.
func Training(a Azure) (*azure.TrainingClient, error) {
	if !a.Configured() {
		return nil, configf("training needs CUSTOM_VISION_TRAINING_ENDPOINT and CUSTOM_VISION_TRAINING_KEY (or SIGHTLINE_AZURE_AUTH=entra)")
	}
	co, err := a.clientOptions()
	if err != nil {
		return nil, err
	}
	c, err := azure.NewTrainingClient(a.Endpoint, a.Key, &azure.TrainingOptions{ClientOptions: co})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return c, nil
}

// DocumentIntelligence is the Document Intelligence client of a; opts
// carry the tier, the poll interval and the operation timeout (a's retries
// and attempt timeout are applied over them).
func DocumentIntelligence(a Azure, opts azure.DocumentOptions) (*azure.DocumentClient, error) {
	if !a.Configured() {
		return nil, configf("the Azure backend needs DOCUMENT_INTELLIGENCE_ENDPOINT and DOCUMENT_INTELLIGENCE_KEY (or SIGHTLINE_AZURE_AUTH=entra)")
	}
	co, err := a.clientOptions()
	if err != nil {
		return nil, err
	}
	opts.ClientOptions = co
	c, err := azure.NewDocumentClient(a.Endpoint, a.Key, &opts)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return c, nil
}

// Documents builds the document reader of `document` and the app's
// Document mode: "azure" (Document Intelligence, behind privacy blurring
// when asked) or "local" (heuristic rules over the local OCR, its models
// loaded now).
func Documents(kind Kind, a Azure, opts azure.DocumentOptions, privacy bool) (analyzer.DocumentAnalyzer, func(), error) {
	switch kind {
	case Local:
		b := local.New(local.Options{})
		if err := b.Load(analyzer.Features{analyzer.FeatureRead}); err != nil {
			b.Close()
			return nil, nil, fmt.Errorf("%w: %w", ErrConfig, err)
		}
		return docrules.New(b), func() { b.Close() }, nil
	case Cloud:
		c, err := DocumentIntelligence(a, opts)
		if err != nil {
			return nil, nil, err
		}
		if !privacy {
			return c, func() {}, nil
		}
		return privateCloud(local.DeviceCPU, func(f analyzer.FaceFinder) analyzer.DocumentAnalyzer {
			return analyzer.DocumentAnalyzerWithPrivacy(c, f)
		})
	}
	return nil, nil, configf("unknown backend %q (azure or local)", kind)
}

// Config says which backends a live pipeline uses.
type Config struct {
	Mode schedule.Mode
	// Features requested; nil: objects, people and tags, plus the caption
	// when a cloud is configured.
	Features analyzer.Features
	Options  analyzer.Options
	Vision   Azure
	// Privacy blurs faces before anything goes to the cloud, and asks the
	// local backend for faces so recordings and snapshots blur them too.
	Privacy bool
	// Local configures the local models (threads, parallel detectors);
	// Local.Detectors > 1 runs that many analyses at once.
	Local local.Options
	// Budget and pacing.
	LocalFPS       float64
	CloudPerMinute float64
	CloudPerDay    int
	CacheTTL       time.Duration
	// LoadLater leaves the local models to load on their first analysis
	// (the app: its window and first frame do not wait for them); without
	// it they load now, so a missing model is a configuration error at once.
	LoadLater bool
}

// Backends are the analyzers a `run` pipeline uses, built from a Config.
// Close releases the local models.
type Backends struct {
	Local *local.Backend // nil in cloud-only mode without privacy
	opts  schedule.Options
}

// DefaultFeatures are what a live pipeline computes unless told: local
// boxes and tags, plus the caption when a cloud is configured.
func DefaultFeatures(cloud bool) analyzer.Features {
	fs := analyzer.Features{analyzer.FeatureObjects, analyzer.FeaturePeople, analyzer.FeatureTags}
	if cloud {
		fs = append(fs, analyzer.FeatureCaption)
	}
	return fs
}

// Build makes the backends cfg asks for, with a local backend of its own
// when it needs one.
func Build(cfg Config) (*Backends, error) {
	b := &Backends{}
	if cfg.mode() != schedule.ModeCloud || cfg.Privacy {
		b.Local = local.New(cfg.Local)
	}
	opts, err := Schedule(cfg, b.Local)
	if err != nil {
		b.Close()
		return nil, err
	}
	b.opts = opts
	return b, nil
}

func (cfg Config) mode() schedule.Mode {
	if cfg.Mode == "" {
		return schedule.ModeAuto
	}
	return cfg.Mode
}

// Schedule makes the scheduler options cfg asks for, with loc as the local
// backend (the app keeps one for its whole life; nil: none): the cloud
// client, privacy blurring in front of it, the features resolved (every one
// must have a backend) and the local models they need loaded, so a missing
// model is said now, once.
func Schedule(cfg Config, loc *local.Backend) (schedule.Options, error) {
	mode := cfg.mode()
	o := schedule.Options{Mode: mode, Options: cfg.Options, LocalFPS: cfg.LocalFPS, LocalWorkers: cfg.Local.Detectors,
		CloudPerMinute: cfg.CloudPerMinute, CloudPerDay: cfg.CloudPerDay, CacheTTL: cfg.CacheTTL}
	if mode != schedule.ModeLocal && cfg.Vision.Configured() {
		c, err := Vision(cfg.Vision)
		if err != nil {
			return o, err
		}
		o.Cloud = c
	} else if mode == schedule.ModeCloud {
		return o, configf("--backend azure needs VISION_ENDPOINT and VISION_KEY (or SIGHTLINE_AZURE_AUTH=entra)")
	}
	if cfg.Privacy && loc == nil {
		return o, configf("privacy needs the local face model")
	}
	if cfg.Privacy && o.Cloud != nil {
		o.Cloud = analyzer.WithPrivacy(o.Cloud, loc)
	}
	if mode != schedule.ModeCloud && loc != nil {
		o.Local = loc
	}
	var err error
	o.Features, err = features(cfg, o, loc)
	return o, err
}

// features resolves the requested features and loads the local models
// they need (unless cfg.LoadLater).
func features(cfg Config, o schedule.Options, loc *local.Backend) (analyzer.Features, error) {
	fs := cfg.Features
	if fs == nil {
		fs = DefaultFeatures(o.Cloud != nil)
	}
	fs = append(analyzer.Features{}, fs...)
	if cfg.Privacy && o.Local != nil && !fs.Has(analyzer.FeatureFaces) {
		fs = append(fs, analyzer.FeatureFaces) // recordings and snapshots blur what it finds
	}
	var load analyzer.Features
	for _, f := range fs {
		onLocal := o.Local != nil && o.Local.Supports(f)
		if !onLocal && !(o.Cloud != nil && o.Cloud.Supports(f)) {
			return nil, configf("feature %q is not available with --backend %s", f, o.Mode)
		}
		if onLocal {
			load = append(load, f)
		}
	}
	if cfg.Privacy {
		load = append(load, analyzer.FeatureFaces) // the faces to blur
	}
	if loc != nil && !cfg.LoadLater {
		if err := loc.Load(load); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrConfig, err)
		}
	}
	return fs, nil
}

// Schedule returns the scheduler options for these backends (callbacks,
// clock and waiting are the pipeline's to set).
func (b *Backends) Schedule() schedule.Options { return b.opts }

// Close releases the local models.
func (b *Backends) Close() {
	if b.Local != nil {
		b.Local.Close()
	}
}

// Kind is the backend of a one-image command: local models or Azure.
type Kind string

const (
	Local Kind = "local"
	Cloud Kind = "azure"
)

// ParseKind reads a one-image command's --backend.
func ParseKind(name string) (Kind, error) {
	switch k := Kind(name); k {
	case Local, Cloud:
		return k, nil
	}
	return "", configf("unknown backend %q (azure or local)", name)
}

// Analyzer builds the backend of the one-image commands (analyze, ocr):
// local models on dev, or Azure behind privacy blurring (on dev) when
// asked.
func Analyzer(kind Kind, vision Azure, privacy bool, dev local.Device) (a analyzer.Analyzer, closeFn func(), err error) {
	switch kind {
	case Local:
		b := local.New(local.Options{Device: dev})
		return b, func() { b.Close() }, nil
	case Cloud:
		c, err := Vision(vision)
		if err != nil {
			return nil, nil, err
		}
		if !privacy {
			return c, func() {}, nil
		}
		return privateCloud(dev, func(f analyzer.FaceFinder) analyzer.Analyzer { return analyzer.WithPrivacy(c, f) })
	}
	return nil, nil, configf("unknown backend %q (azure or local)", kind)
}

// Predictor wraps a cloud predictor in privacy blurring (its face model on
// dev) when asked.
func Predictor(p analyzer.Predictor, privacy bool, dev local.Device) (analyzer.Predictor, func(), error) {
	if !privacy {
		return p, func() {}, nil
	}
	return privateCloud(dev, func(f analyzer.FaceFinder) analyzer.Predictor { return analyzer.PredictorWithPrivacy(p, f) })
}

// privateCloud loads the local face model on dev and wraps a cloud client
// with it.
func privateCloud[T any](dev local.Device, wrap func(analyzer.FaceFinder) T) (T, func(), error) {
	b := local.New(local.Options{Device: dev})
	if err := b.Load(analyzer.Features{analyzer.FeatureFaces}); err != nil {
		b.Close()
		var zero T
		return zero, nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return wrap(b), func() { b.Close() }, nil
}
