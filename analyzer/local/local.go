package local

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"image"
	"runtime"
	"slices"
	"strings"
	"sync"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/internal/deps"
	"github.com/sightline/sightline/internal/imagefile"
)

// DefaultThreshold is the confidence below which local detections are not
// returned unless the caller asks for a lower one.
const DefaultThreshold = 0.25

// personClass is the COCO class YOLOX reports people as.
const personClass = "person"

// Options configure the local backend.
type Options struct {
	// YOLOXPath overrides the default YOLOX-nano model.
	YOLOXPath string
	// Threads is each model's intra-op thread count; 0 uses every core.
	// The GUI uses 1 so that decoding and drawing keep a core of their own.
	// The OCR reader runs one-thread sessions instead, and Threads of its
	// inferences at once (recognition batches, concurrent reads).
	Threads int
	// Detectors is how many object detections may run at once, each on a
	// session of its own (default 1). Two one-thread sessions on two cores
	// out-run one two-thread session: ONNX Runtime's threads spin between
	// operators, burning a third more CPU an inference (make bench).
	Detectors int
	// Device is where the models run (default the CPU).
	Device Device
}

// BatchOptions suit analysing every frame of a file as fast as possible:
// one single-threaded detector a core, run in parallel (with as many
// scheduler workers). On the project's two cores the pipeline runs 1.17×
// as fast as with one two-thread detector (make bench).
func BatchOptions() Options {
	return Options{Threads: 1, Detectors: runtime.NumCPU()}
}

// Backend is the local analyzer: every model is loaded on first use and
// kept for the life of the backend.
type Backend struct {
	opts Options

	// Object detection runs on up to opts.Detectors pooled detectors at
	// once; each reuses its own buffers.
	idle chan *pooledDetector

	mu    sync.Mutex // guards the fields below; one face detection at a time
	made  int        // detectors created
	first *YOLOX
	faces *FaceDetector
	ocr   *OCR
}

type pooledDetector struct {
	yolox *YOLOX
	dets  []Detection
}

// New returns a local backend; models load lazily, so construction is cheap.
func New(opts Options) *Backend {
	opts.Detectors = max(opts.Detectors, 1)
	return &Backend{opts: opts, idle: make(chan *pooledDetector, opts.Detectors)}
}

// spec is how the backend's models make their sessions.
func (b *Backend) spec() sessionSpec {
	return sessionSpec{threads: b.opts.Threads, device: b.opts.Device}
}

// Name implements analyzer.Analyzer.
func (b *Backend) Name() string { return "local" }

// Supports implements analyzer.Analyzer: everything but the captions,
// which need a language model Sightline does not ship.
func (b *Backend) Supports(f analyzer.Feature) bool {
	switch f {
	case analyzer.FeatureObjects, analyzer.FeaturePeople, analyzer.FeatureTags,
		analyzer.FeatureRead, analyzer.FeatureFaces, analyzer.FeatureSmartCrops:
		return true
	}
	return false
}

// DefaultFeatures are the features `analyze --backend local` runs when none
// are given.
var DefaultFeatures = analyzer.Features{analyzer.FeatureTags, analyzer.FeatureObjects,
	analyzer.FeaturePeople, analyzer.FeatureSmartCrops, analyzer.FeatureRead}

// Detector returns the first YOLOX detector, loading it on first use, for
// callers that use the model directly; not while analyses run.
func (b *Backend) Detector() (*YOLOX, error) {
	d, err := b.takeDetector(context.Background())
	if err != nil {
		return nil, err
	}
	b.idle <- d
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.first, nil
}

// takeDetector returns an idle detector, creating one while fewer than
// opts.Detectors exist, and otherwise waiting for one to be put back.
func (b *Backend) takeDetector(ctx context.Context) (*pooledDetector, error) {
	select {
	case d := <-b.idle:
		return d, nil
	default:
	}
	b.mu.Lock()
	if b.made < b.opts.Detectors {
		defer b.mu.Unlock()
		path := b.opts.YOLOXPath
		if path == "" {
			var err error
			if path, err = deps.Model("yolox-nano/yolox_nano.onnx"); err != nil {
				return nil, err
			}
		}
		y, err := newYOLOX(path, b.spec())
		if err != nil {
			return nil, err
		}
		b.made++
		if b.first == nil {
			b.first = y
		}
		return &pooledDetector{yolox: y}, nil
	}
	b.mu.Unlock()
	defer analyzer.Queue(ctx)()
	select {
	case d := <-b.idle:
		return d, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Analyze implements analyzer.Analyzer.
func (b *Backend) Analyze(ctx context.Context, img analyzer.Image, req analyzer.Request) (*analyzer.Analysis, error) {
	for _, f := range req.Features {
		if !b.Supports(f) {
			return nil, fmt.Errorf("feature %q is not available locally (it needs --backend azure)", f)
		}
	}
	mat, release, err := decodeImage(img)
	if err != nil {
		return nil, err
	}
	defer release()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	full := image.Pt(mat.Cols(), mat.Rows())
	if img.Full != (image.Point{}) && img.Full != full {
		if !detectorOnly(req.Features) {
			return nil, fmt.Errorf("a frame scaled down to %dx%d: %v need the full picture", full.X, full.Y, req.Features)
		}
		full = img.Full
	}
	threshold := req.Options.Threshold
	if threshold <= 0 {
		threshold = DefaultThreshold
	}
	a := &analyzer.Analysis{Metadata: analyzer.Metadata{Width: full.X, Height: full.Y}}
	var vbuf [3]string // on the stack: one version a model
	versions := vbuf[:0]
	fs := req.Features
	if needsDetector(fs) {
		err := func() error {
			d, err := b.takeDetector(ctx)
			if err != nil {
				return err
			}
			defer func() { b.idle <- d }() // even if the model panics
			if d.dets, err = d.yolox.DetectScaled(mat, full, float32(threshold), d.dets[:0]); err != nil {
				return err
			}
			fillDetections(a, fs, d.dets)
			versions = append(versions, d.yolox.Version())
			return nil
		}()
		if err != nil {
			return nil, err
		}
	}
	if needsFaces(fs) {
		// One face model: one detection at a time.
		var err error
		if versions, err = b.facesAndCrops(ctx, mat, req, a, versions); err != nil {
			return nil, err
		}
	}
	if fs.Has(analyzer.FeatureRead) {
		// The reader runs concurrent reads itself, sharing the cores.
		o, err := b.reader()
		if err != nil {
			return nil, err
		}
		if a.ReadResult, err = o.Read(mat); err != nil {
			return nil, err
		}
		versions = append(versions, o.ModelVersion())
	}
	a.ModelVersion = strings.Join(versions, ",")
	return a, nil
}

// facesAndCrops adds faces and smart crops to a, as req asks, and the face
// model's version to versions.
func (b *Backend) facesAndCrops(ctx context.Context, mat gocv.Mat, req analyzer.Request, a *analyzer.Analysis, versions []string) ([]string, error) {
	queued := analyzer.Queue(ctx)
	b.mu.Lock()
	queued()
	defer b.mu.Unlock()
	fs := req.Features
	faces, err := b.detectFaces(mat)
	if err != nil {
		return versions, err
	}
	a.Faces = faces
	versions = append(versions, b.faces.ModelVersion())
	if fs.Has(analyzer.FeatureSmartCrops) {
		a.SmartCrops = SmartCrops(mat.Cols(), mat.Rows(), req.Options.SmartCropsRatios, a)
		if !fs.Has(analyzer.FeatureFaces) {
			a.Faces = nil
		}
		if !fs.Has(analyzer.FeatureObjects) {
			a.Objects = nil
		}
		if !fs.Has(analyzer.FeaturePeople) {
			a.People = nil
		}
	}
	return versions, nil
}

// FrameSize is the size a w×h frame may be scaled down to before Analyze
// (with analyzer.Image.Full set) for features fs: the detector's letterbox
// size, where the frame goes into the model as it is, when fs need only
// the detector's boxes. ok is false when they need more of the picture
// (faces, text, smart crops), or the detector does not load.
func (b *Backend) FrameSize(fs analyzer.Features, w, h int) (size image.Point, ok bool) {
	if len(fs) == 0 || !detectorOnly(fs) {
		return image.Point{}, false
	}
	y, err := b.Detector()
	if err != nil {
		return image.Point{}, false
	}
	size = y.LetterboxSize(w, h)
	return size, size.X <= w && size.Y <= h && size != image.Pt(w, h)
}

// detectorOnly: fs need the detector's boxes and nothing else.
func detectorOnly(fs analyzer.Features) bool {
	for _, f := range fs {
		switch f {
		case analyzer.FeatureObjects, analyzer.FeaturePeople, analyzer.FeatureTags:
		default:
			return false
		}
	}
	return true
}

// needsDetector and needsFaces say which models fs needs: smart crops
// weigh objects, people and faces.
func needsDetector(fs analyzer.Features) bool {
	return fs.Has(analyzer.FeatureObjects) || fs.Has(analyzer.FeaturePeople) ||
		fs.Has(analyzer.FeatureTags) || fs.Has(analyzer.FeatureSmartCrops)
}

func needsFaces(fs analyzer.Features) bool {
	return fs.Has(analyzer.FeatureFaces) || fs.Has(analyzer.FeatureSmartCrops)
}

// Faces implements analyzer.FaceFinder, for privacy blurring.
func (b *Backend) Faces(img gocv.Mat) ([]analyzer.Face, error) {
	mat, release, err := decodeImage(analyzer.Image{Mat: img})
	if err != nil {
		return nil, err
	}
	defer release()
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.detectFaces(mat)
}

// detectFaces runs BlazeFace, loading it on first use.
func (b *Backend) detectFaces(mat gocv.Mat) ([]analyzer.Face, error) {
	d, err := b.faceDetector()
	if err != nil {
		return nil, err
	}
	return d.Detect(mat)
}

func (b *Backend) faceDetector() (*FaceDetector, error) {
	if b.faces == nil {
		path, err := DefaultFaceModel()
		if err != nil {
			return nil, err
		}
		if b.faces, err = newFaceDetector(path, b.spec()); err != nil {
			return nil, err
		}
	}
	return b.faces, nil
}

// reader returns the OCR reader, loading it on first use.
func (b *Backend) reader() (*OCR, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.loadReader()
}

// loadReader is reader with b.mu held.
func (b *Backend) loadReader() (*OCR, error) {
	if b.ocr == nil {
		dir, err := DefaultOCRDir()
		if err != nil {
			return nil, err
		}
		if b.ocr, err = newOCR(dir, b.spec()); err != nil {
			return nil, err
		}
	}
	return b.ocr, nil
}

// Load loads the models fs need now rather than at the first analysis, so
// that a missing or broken model is a configuration error the user sees
// at once, not a failure of every input.
func (b *Backend) Load(fs analyzer.Features) error {
	if needsDetector(fs) {
		if _, err := b.Detector(); err != nil {
			return err
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if needsFaces(fs) {
		if _, err := b.faceDetector(); err != nil {
			return err
		}
	}
	if fs.Has(analyzer.FeatureRead) {
		if _, err := b.loadReader(); err != nil {
			return err
		}
	}
	return nil
}

// fillDetections turns detections into objects, people and tags. Smart
// crops need objects and people even when they were not asked for; the
// caller drops them afterwards.
func fillDetections(a *analyzer.Analysis, fs analyzer.Features, dets []Detection) {
	crops := fs.Has(analyzer.FeatureSmartCrops)
	if fs.Has(analyzer.FeatureObjects) || crops {
		a.Objects = make([]analyzer.Object, 0, len(dets))
		for _, d := range dets {
			a.Objects = append(a.Objects, analyzer.Object{Name: d.Name, Confidence: d.Confidence, BoundingBox: d.Box})
		}
	}
	if fs.Has(analyzer.FeaturePeople) || crops {
		a.People = []analyzer.Person{}
		for _, d := range dets {
			if d.Name == personClass {
				a.People = append(a.People, analyzer.Person{Confidence: d.Confidence, BoundingBox: d.Box})
			}
		}
	}
	if fs.Has(analyzer.FeatureTags) {
		// Detections come highest first, so each class's first is its best.
		a.Tags = make([]analyzer.Tag, 0, len(dets))
	dets:
		for _, d := range dets {
			for _, t := range a.Tags {
				if t.Name == d.Name {
					continue dets
				}
			}
			a.Tags = append(a.Tags, analyzer.Tag{Name: d.Name, Confidence: d.Confidence})
		}
		// Equal confidences in name order, so output is stable.
		slices.SortStableFunc(a.Tags, func(x, y analyzer.Tag) int {
			if x.Confidence != y.Confidence {
				return cmp.Compare(y.Confidence, x.Confidence)
			}
			return strings.Compare(x.Name, y.Name)
		})
	}
}

// decodeImage returns img's pixels as 8-bit BGR, and the function that
// lets them go: it closes a Mat made here, and leaves the caller's own.
// Every caller defers it, whoever owns the pixels.
func decodeImage(img analyzer.Image) (gocv.Mat, func(), error) {
	keep := func() {}
	switch {
	case img.HasMat():
		if img.Mat.Type() == gocv.MatTypeCV8UC3 {
			return img.Mat, keep, nil
		}
		bgr := gocv.NewMat()
		switch img.Mat.Channels() {
		case 1:
			gocv.CvtColor(img.Mat, &bgr, gocv.ColorGrayToBGR)
		case 4:
			gocv.CvtColor(img.Mat, &bgr, gocv.ColorBGRAToBGR)
		default:
			bgr.Close()
			return gocv.Mat{}, keep, fmt.Errorf("unsupported image type %v", img.Mat.Type())
		}
		return bgr, func() { bgr.Close() }, nil
	case len(img.Bytes) > 0:
		m, _, err := imagefile.Decode(img.Bytes)
		if err != nil {
			return gocv.Mat{}, keep, err
		}
		return m, func() { m.Close() }, nil
	case img.URL != "":
		return gocv.Mat{}, keep, errors.New("the local backend does not fetch URLs; download the image or use --backend azure")
	}
	return gocv.Mat{}, keep, errors.New("empty image")
}

// Close releases every loaded model, after the detections running finish.
func (b *Backend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for ; b.made > 0; b.made-- {
		(<-b.idle).yolox.Close()
	}
	b.first = nil
	if b.faces != nil {
		b.faces.Close()
	}
	if b.ocr != nil {
		b.ocr.Close()
	}
	b.faces, b.ocr = nil, nil
	return nil
}
