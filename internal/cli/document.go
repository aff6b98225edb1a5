package cli

import (
	"context"
	"flag"
	"time"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/azure"
	"github.com/sightline/sightline/analyzer/docrules"
	"github.com/sightline/sightline/internal/backend"
)

func cmdDocument(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("document", flag.ContinueOnError)
	name := fs.String("backend", "azure", "azure or local (heuristic rules over local OCR)")
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
	kind, err := backend.ParseKind(*name)
	if err != nil {
		return configError(err)
	}
	if err := checkDocumentRequest(kind, req); err != nil {
		return err
	}
	a, err := azureFromEnv(e, "DOCUMENT_INTELLIGENCE_ENDPOINT", "DOCUMENT_INTELLIGENCE_KEY", *retries)
	if err != nil {
		return err
	}
	da, closeFn, err := backend.Documents(kind, a, azure.DocumentOptions{FreeTier: *freeTier, OperationTimeout: *timeout}, *privacy)
	if err != nil {
		return configError(err)
	}
	defer closeFn()
	return batch(ctx, e, inputs, *workers, func(ctx context.Context, _ string, img analyzer.Image) (any, string, error) {
		d, err := da.AnalyzeDocument(ctx, img, req)
		return d, da.Name(), err
	})
}

// checkDocumentRequest refuses, before any model loads or call, a model or
// option the backend cannot take.
func checkDocumentRequest(kind backend.Kind, req analyzer.DocumentRequest) error {
	switch kind {
	case backend.Local:
		if err := docrules.CheckModel(req.Model); err != nil {
			return usagef("%v", err)
		}
		if req.Pages != "" || req.Locale != "" {
			return usagef("--pages and --locale are for --backend azure: the local fallback reads one image, in en-US conventions")
		}
	case backend.Cloud:
		if req.Model == analyzer.ModelAuto {
			return usagef("--model auto is for --backend local; Document Intelligence needs the model named (prebuilt-invoice, prebuilt-receipt, …)")
		}
		if err := azure.CheckDocumentRequest(req); err != nil {
			return usagef("%v", err)
		}
	}
	return nil
}
