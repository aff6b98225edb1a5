package cli

import (
	"context"
	"flag"
	"time"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/azure"
	"github.com/sightline/sightline/analyzer/docrules"
	"github.com/sightline/sightline/analyzer/local"
)

func cmdDocument(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("document", flag.ContinueOnError)
	backend := fs.String("backend", "azure", "azure or local (heuristic rules over local OCR)")
	model := fs.String("model", analyzer.ModelReceipt, "prebuilt-invoice, prebuilt-receipt, prebuilt-read, prebuilt-layout, prebuilt-idDocument, a custom model id, or auto (local: invoice or receipt)")
	pages := fs.String("pages", "", "1-based pages to analyse, such as 1-3,5 (default: all)")
	locale := fs.String("locale", "", "locale hint such as en-US (default: detected)")
	freeTier := fs.Bool("free-tier", false, "check documents against the free (F0) tier's limits: 4 MB, two pages")
	timeout := fs.Duration("timeout", 2*time.Minute, "longest an analysis may take, polls included")
	workers := fs.Int("workers", 4, "inputs analysed in parallel")
	retries := fs.Int("retries", 3, "retries of a failed cloud call")
	privacy := fs.Bool("privacy", false, "blur faces before an image leaves the machine")
	inputs, err := parse(fs, args)
	if err != nil {
		return err
	}
	if *timeout <= 0 {
		return usagef("--timeout %v: want a positive duration such as 2m", *timeout)
	}
	req := analyzer.DocumentRequest{Model: *model, Pages: *pages, Locale: *locale}
	var da analyzer.DocumentAnalyzer
	closeFn := func() {}
	switch *backend {
	case "local":
		da, closeFn, err = localDocuments(req)
	case "azure":
		da, closeFn, err = azureDocuments(e, req, *retries, *privacy,
			azure.DocumentOptions{FreeTier: *freeTier, OperationTimeout: *timeout})
	default:
		err = usagef("unknown backend %q (azure or local)", *backend)
	}
	if err != nil {
		return err
	}
	defer closeFn()
	return batch(ctx, e, inputs, *workers, func(ctx context.Context, _ string, img analyzer.Image) (any, string, error) {
		d, err := da.AnalyzeDocument(ctx, img, req)
		return d, da.Name(), err
	})
}

// localDocuments is the heuristic fallback over the local OCR, whose
// models are loaded up front.
func localDocuments(req analyzer.DocumentRequest) (analyzer.DocumentAnalyzer, func(), error) {
	if err := docrules.CheckModel(req.Model); err != nil {
		return nil, nil, usagef("%v", err)
	}
	if req.Pages != "" || req.Locale != "" {
		return nil, nil, usagef("--pages and --locale are for --backend azure: the local fallback reads one image, in en-US conventions")
	}
	b := local.New(local.Options{})
	if err := loadModels(b, analyzer.Features{analyzer.FeatureRead}); err != nil {
		b.Close()
		return nil, nil, err
	}
	return docrules.New(b), func() { b.Close() }, nil
}

// azureDocuments is the Document Intelligence client, behind face blurring
// with privacy. The request is checked before any call.
func azureDocuments(e env, req analyzer.DocumentRequest, retries int, privacy bool, opts azure.DocumentOptions) (analyzer.DocumentAnalyzer, func(), error) {
	if req.Model == analyzer.ModelAuto {
		return nil, nil, usagef("--model auto is for --backend local; Document Intelligence needs the model named (prebuilt-invoice, prebuilt-receipt, …)")
	}
	if err := azure.CheckDocumentRequest(req); err != nil {
		return nil, nil, usagef("%v", err)
	}
	c, err := newDocumentClient(e, retries, opts)
	if err != nil {
		return nil, nil, err
	}
	if !privacy {
		return c, func() {}, nil
	}
	faces, err := loadFaces()
	if err != nil {
		return nil, nil, err
	}
	return analyzer.DocumentAnalyzerWithPrivacy(c, faces), func() { faces.Close() }, nil
}

// newDocumentClient builds the Document Intelligence client from the
// environment.
func newDocumentClient(e env, retries int, opts azure.DocumentOptions) (*azure.DocumentClient, error) {
	endpoint, key := e.getenv("DOCUMENT_INTELLIGENCE_ENDPOINT"), e.getenv("DOCUMENT_INTELLIGENCE_KEY")
	if endpoint == "" || (key == "" && !entraAuth(e)) {
		return nil, usagef("the Azure backend needs DOCUMENT_INTELLIGENCE_ENDPOINT and DOCUMENT_INTELLIGENCE_KEY (or SIGHTLINE_AZURE_AUTH=entra) in the environment")
	}
	co, err := clientOptions(e, retries)
	if err != nil {
		return nil, err
	}
	opts.ClientOptions = co
	c, err := azure.NewDocumentClient(endpoint, key, &opts)
	if err != nil {
		return nil, usagef("%v", err)
	}
	return c, nil
}
