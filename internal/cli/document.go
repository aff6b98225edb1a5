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
	switch *backend {
	case "local":
		if err := docrules.CheckModel(req.Model); err != nil {
			return usagef("%v", err)
		}
		if req.Pages != "" || req.Locale != "" {
			return usagef("--pages and --locale are for --backend azure: the local fallback reads one image, in en-US conventions")
		}
		b := local.New(local.Options{})
		defer b.Close()
		if err := loadModels(b, analyzer.Features{analyzer.FeatureRead}); err != nil {
			return err
		}
		da = docrules.New(b)
	case "azure":
		if req.Model == analyzer.ModelAuto {
			return usagef("--model auto is for --backend local; Document Intelligence needs the model named (prebuilt-invoice, prebuilt-receipt, …)")
		}
		if err := azure.CheckDocumentRequest(req); err != nil {
			return usagef("%v", err)
		}
		c, err := newDocumentClient(e, *retries, azure.DocumentOptions{FreeTier: *freeTier, OperationTimeout: *timeout})
		if err != nil {
			return err
		}
		da = c
		if *privacy {
			b := local.New(local.Options{})
			defer b.Close()
			if err := loadModels(b, analyzer.Features{analyzer.FeatureFaces}); err != nil {
				return err
			}
			da = analyzer.DocumentAnalyzerWithPrivacy(da, b)
		}
	default:
		return usagef("unknown backend %q (azure or local)", *backend)
	}
	return batch(ctx, e, inputs, *workers, func(ctx context.Context, _ string, img analyzer.Image) (any, string, error) {
		d, err := da.AnalyzeDocument(ctx, img, req)
		return d, da.Name(), err
	})
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
