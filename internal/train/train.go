// Package train turns a labelled dataset into a Custom Vision model: it
// picks or creates the project, creates the missing tags, uploads the
// images with their boxes, trains, and optionally publishes the iteration
// for the cloud backend and exports it as ONNX into a folder the local
// backend loads, reporting progress as it goes.
package train

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/sightline/sightline/analyzer/azure"
	"github.com/sightline/sightline/internal/dataset"
)

// Stages of a run, in order, as Progress reports them.
const (
	StageProject  = "project"
	StageTags     = "tags"
	StageUpload   = "upload"
	StageTrain    = "train"
	StagePublish  = "publish"
	StageExport   = "export"
	StageDownload = "download"
)

// Options say what to train and what to do with the result.
type Options struct {
	// Project names the project: used when one of that name exists,
	// created otherwise.
	Project string
	// Kind is azure.ObjectDetection (the default) or azure.Classification
	// (each image tagged with the classes of its boxes).
	Kind string
	// Domain names the domain of a new project; by default an exportable
	// (compact) one, so that the model can run locally.
	Domain string
	// PublishName, when set, publishes the iteration under this name on
	// the prediction resource PredictionResourceID, for the cloud backend.
	PublishName          string
	PredictionResourceID string
	// ExportDir, when set, receives the iteration's ONNX export, unpacked;
	// Verify (when set) must accept it before it replaces what is there.
	ExportDir string
	Verify    func(dir string) error
	// OnProgress, when set, is told of every step, from the goroutine
	// running Run.
	OnProgress func(Progress)
}

// Progress is one step of a run: Done of Total images uploaded, or the
// status of the training or export (Detail).
type Progress struct {
	Stage       string
	Done, Total int
	Detail      string
}

// Result is what a run did: the `train` command's line.
type Result struct {
	Project        string `json:"project"`
	ProjectID      string `json:"project_id,omitempty"`
	ProjectCreated bool   `json:"project_created"`
	Domain         string `json:"domain,omitempty"`
	Iteration      string `json:"iteration,omitempty"`
	IterationID    string `json:"iteration_id,omitempty"`
	// Status is the iteration's: Completed or Failed ("" when no training
	// started).
	Status        string `json:"status"`
	PublishedName string `json:"published_name,omitempty"`
	ExportDir     string `json:"export_dir,omitempty"`
	Images        Counts `json:"images"`
	// Failures are the images that are not in the project, and why.
	Failures []Failure `json:"failures,omitempty"`
	// Error is what stopped the run, when something did.
	Error string `json:"error,omitempty"`
}

// Counts says what became of the dataset's images.
type Counts struct {
	Uploaded   int `json:"uploaded"`
	Duplicates int `json:"duplicates"` // already in the project
	Failed     int `json:"failed"`
	Skipped    int `json:"skipped"` // no boxes to learn from
}

// Failure is an image that did not make it into the project.
type Failure struct {
	File   string `json:"file"`
	Status string `json:"status"`
	Error  string `json:"error"`
}

// Trainer runs trainings on a Custom Vision Training resource.
type Trainer struct {
	client *azure.TrainingClient
}

// New returns a Trainer using client.
func New(client *azure.TrainingClient) *Trainer { return &Trainer{client: client} }

// run is one run's state.
type run struct {
	*Trainer
	opts   Options
	res    *Result
	kind   string
	tags   map[string]string // category name (lower case) → tag id
	domain azure.Domain
}

// Run trains on ds, whose files are under imagesDir. The result says how
// far it got even when an error stopped it; per-image failures do not
// stop it, and are in Result.Failures.
func (t *Trainer) Run(ctx context.Context, ds *dataset.Dataset, imagesDir string, opts Options) (*Result, error) {
	r := &run{Trainer: t, opts: opts, res: &Result{Project: opts.Project}, kind: opts.Kind}
	if r.kind == "" {
		r.kind = azure.ObjectDetection
	}
	if err := r.check(ds); err != nil {
		return r.res, err
	}
	err := r.steps(ctx, ds, imagesDir)
	if err != nil {
		r.res.Error = err.Error()
	}
	return r.res, err
}

func (r *run) check(ds *dataset.Dataset) error {
	switch {
	case r.kind != azure.ObjectDetection && r.kind != azure.Classification:
		return fmt.Errorf("train: kind %q: want %s or %s", r.kind, azure.ObjectDetection, azure.Classification)
	case strings.TrimSpace(r.opts.Project) == "":
		return errors.New("train: no project name")
	case r.opts.PublishName != "" && r.opts.PredictionResourceID == "":
		return errors.New("train: publishing needs the prediction resource's Azure resource id")
	}
	return ds.Validate()
}

func (r *run) steps(ctx context.Context, ds *dataset.Dataset, imagesDir string) error {
	if err := r.project(ctx, ds); err != nil {
		return err
	}
	if err := r.ensureTags(ctx, ds); err != nil {
		return err
	}
	if err := r.upload(ctx, ds, imagesDir); err != nil {
		return err
	}
	it, err := r.train(ctx)
	if err != nil {
		return err
	}
	if r.opts.PublishName != "" {
		r.progress(Progress{Stage: StagePublish, Detail: r.opts.PublishName})
		if err := r.client.Publish(ctx, r.res.ProjectID, it.ID, r.opts.PublishName, r.opts.PredictionResourceID); err != nil {
			return err
		}
		r.res.PublishedName = r.opts.PublishName
	}
	if r.opts.ExportDir != "" {
		return r.export(ctx, it)
	}
	return nil
}

func (r *run) progress(p Progress) {
	if r.opts.OnProgress != nil {
		r.opts.OnProgress(p)
	}
}

// project finds the project by name, checking it is of the right kind, or
// creates it on a domain that can be exported.
func (r *run) project(ctx context.Context, ds *dataset.Dataset) error {
	r.progress(Progress{Stage: StageProject, Detail: r.opts.Project})
	domains, err := r.client.Domains(ctx)
	if err != nil {
		return err
	}
	projects, err := r.client.Projects(ctx)
	if err != nil {
		return err
	}
	if i := slices.IndexFunc(projects, func(p azure.Project) bool { return p.Name == r.opts.Project }); i >= 0 {
		p := projects[i]
		j := slices.IndexFunc(domains, func(d azure.Domain) bool { return d.ID == p.Settings.DomainID })
		if j >= 0 && domains[j].Type != r.kind {
			return fmt.Errorf("train: project %q is a %s project, not %s", p.Name, domains[j].Type, r.kind)
		}
		if j >= 0 {
			r.domain = domains[j]
		}
		r.res.ProjectID, r.res.Domain = p.ID, r.domain.Name
		return nil
	}
	if r.domain, err = azure.PickDomain(domains, r.kind, r.opts.Domain); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	p, err := r.client.CreateProject(ctx, r.opts.Project, r.domain.ID, classificationType(r.kind, ds))
	if err != nil {
		return err
	}
	r.res.ProjectID, r.res.ProjectCreated, r.res.Domain = p.ID, true, r.domain.Name
	return nil
}

// classificationType is Multilabel when an image has boxes of more than
// one class, else Multiclass; detection projects have none.
func classificationType(kind string, ds *dataset.Dataset) string {
	if kind != azure.Classification {
		return ""
	}
	for _, anns := range ds.AnnotationsByImage() {
		for _, a := range anns {
			if a.CategoryID != anns[0].CategoryID {
				return "Multilabel"
			}
		}
	}
	return "Multiclass"
}

// ensureTags maps each category with boxes to a tag, creating the missing.
func (r *run) ensureTags(ctx context.Context, ds *dataset.Dataset) error {
	r.progress(Progress{Stage: StageTags})
	existing, err := r.client.Tags(ctx, r.res.ProjectID)
	if err != nil {
		return err
	}
	r.tags = map[string]string{}
	for _, t := range existing {
		r.tags[strings.ToLower(t.Name)] = t.ID
	}
	used := map[int64]bool{}
	for _, a := range ds.Annotations {
		used[a.CategoryID] = a.IsCrowd == 0 || used[a.CategoryID]
	}
	for _, c := range ds.Categories {
		if !used[c.ID] || r.tags[strings.ToLower(c.Name)] != "" {
			continue
		}
		t, err := r.client.CreateTag(ctx, r.res.ProjectID, c.Name)
		if err != nil {
			return err
		}
		r.tags[strings.ToLower(c.Name)] = t.ID
	}
	return nil
}

// train starts a training and waits for it. When the service says
// nothing changed since the last training, that training's iteration is
// the result.
func (r *run) train(ctx context.Context) (azure.Iteration, error) {
	r.progress(Progress{Stage: StageTrain, Detail: "starting"})
	it, err := r.client.Train(ctx, r.res.ProjectID)
	var se *azure.ServiceError
	if errors.As(err, &se) && se.StatusCode == http.StatusBadRequest && se.Code == "BadRequestTrainingNotNeeded" {
		return r.latestIteration(ctx)
	}
	if err != nil {
		return it, err
	}
	r.res.Iteration, r.res.IterationID, r.res.Status = it.Name, it.ID, it.Status
	it, err = r.client.WaitTrained(ctx, r.res.ProjectID, it.ID, func(it azure.Iteration) {
		r.res.Status = it.Status
		r.progress(Progress{Stage: StageTrain, Detail: it.Status})
	})
	r.res.Status = it.Status
	return it, err
}

// latestIteration is the project's most recently trained iteration.
func (r *run) latestIteration(ctx context.Context) (azure.Iteration, error) {
	its, err := r.client.Iterations(ctx, r.res.ProjectID)
	if err != nil {
		return azure.Iteration{}, err
	}
	var latest azure.Iteration
	for _, it := range its {
		if it.Status == azure.StatusCompleted && it.TrainedAt >= latest.TrainedAt {
			latest = it
		}
	}
	if latest.ID == "" {
		return latest, fmt.Errorf("train: the service says nothing changed since the last training, but project %q has no completed iteration", r.opts.Project)
	}
	r.res.Iteration, r.res.IterationID, r.res.Status = latest.Name, latest.ID, latest.Status
	r.progress(Progress{Stage: StageTrain, Detail: "nothing new since " + latest.Name})
	return latest, nil
}

// export exports the iteration as ONNX and unpacks it into ExportDir.
func (r *run) export(ctx context.Context, it azure.Iteration) error {
	if !it.Exportable {
		return fmt.Errorf("train: %s was trained on the %q domain, which cannot be exported; train a project on a compact domain to run it locally", it.Name, r.domain.Name)
	}
	r.progress(Progress{Stage: StageExport, Detail: "starting"})
	_, err := r.client.Export(ctx, r.res.ProjectID, it.ID, azure.PlatformONNX)
	var se *azure.ServiceError
	if err != nil && !(errors.As(err, &se) && se.Code == "BadRequestExportAlreadyInProgress") {
		return err
	}
	e, err := r.client.WaitExport(ctx, r.res.ProjectID, it.ID, azure.PlatformONNX, func(e azure.Export) {
		r.progress(Progress{Stage: StageExport, Detail: e.Status})
	})
	if err != nil {
		return err
	}
	r.progress(Progress{Stage: StageDownload, Detail: r.opts.ExportDir})
	if err := r.client.DownloadExport(ctx, r.res.ProjectID, e, r.opts.ExportDir, r.opts.Verify); err != nil {
		return err
	}
	r.res.ExportDir = r.opts.ExportDir
	return nil
}
