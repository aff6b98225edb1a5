package azure

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"regexp"
	"strconv"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/internal/imagefile"
)

// Limits of Document Intelligence v4.0 (service quotas and the models'
// input requirements, 2024-11-30).
const (
	DocumentMaxBytes     = 500 << 20 // standard (S0) tier
	DocumentFreeMaxBytes = 4 << 20   // free (F0) tier
	DocumentMaxPages     = 2000      // pages analysed, S0
	DocumentFreeMaxPages = 2         // F0 analyses only the first two
	DocumentMinSide      = 50
	DocumentMaxSide      = 10000
)

// Formats as the service's docs name them; the images' are imagefile's.
const (
	formatPDF       = "PDF"
	formatHEIF      = "HEIF"
	formatJPEG      = string(imagefile.JPEG)
	formatPNG       = string(imagefile.PNG)
	formatTIFF      = string(imagefile.TIFF)
	formatBMP       = string(imagefile.BMP)
	documentFormats = "PDF, JPEG, PNG, TIFF, BMP or HEIF"
)

// documentLimits are the tier's limits for one request.
type documentLimits struct {
	maxBytes int
	maxPages int
	// pagesChosen: the caller named the pages, so a longer file is fine.
	pagesChosen bool
}

// prepareDocument checks img locally against the service's limits and
// returns the bytes to upload: the file as it is, or the caller's pixels as
// a JPEG of the same size (the service answers in the pixels it received).
func prepareDocument(img analyzer.Image, lim documentLimits) ([]byte, error) {
	if img.Bytes != nil {
		return checkDocumentBytes(img.Bytes, lim)
	}
	if !img.HasMat() {
		return nil, imageErrorf("no document: neither URL, bytes nor pixels given")
	}
	if err := checkDocumentSides(img.Mat.Cols(), img.Mat.Rows()); err != nil {
		return nil, err
	}
	up, err := encodeJPEG(img.Mat, 0)
	if err != nil {
		return nil, err
	}
	if len(up.body) > lim.maxBytes {
		return nil, imageErrorf("JPEG is %s; the service accepts up to %s", formatMB(len(up.body)), formatMB(lim.maxBytes))
	}
	return up.body, nil
}

func checkDocumentBytes(data []byte, lim documentLimits) ([]byte, error) {
	if len(data) == 0 {
		return nil, imageErrorf("the document is empty (0 bytes)")
	}
	format, err := sniffDocument(data)
	if err != nil {
		return nil, err
	}
	if len(data) > lim.maxBytes {
		return nil, imageErrorf("%s is %s; the service accepts up to %s", format, formatMB(len(data)), formatMB(lim.maxBytes))
	}
	switch format {
	case formatPDF, formatHEIF:
		// Their page sizes are the service's to judge.
	default:
		hdr, err := imagefile.Inspect(data)
		if err != nil {
			return nil, imageErrorf("%v", err)
		}
		if err := checkDocumentSides(hdr.Width, hdr.Height); err != nil {
			return nil, err
		}
	}
	if n := pageCount(format, data); n > lim.maxPages && !lim.pagesChosen {
		return nil, imageErrorf("the %s has %d pages and the service analyses at most %d; choose the pages to analyse (--pages)", format, n, lim.maxPages)
	}
	return data, nil
}

func checkDocumentSides(w, h int) error {
	if w < DocumentMinSide || h < DocumentMinSide || w > DocumentMaxSide || h > DocumentMaxSide {
		return imageErrorf("%d×%d px; the service needs %d–%d px per side", w, h, DocumentMinSide, DocumentMaxSide)
	}
	return nil
}

// sniffDocument identifies a format Document Intelligence reads by its
// magic bytes; image formats it does not read get a clear refusal.
func sniffDocument(b []byte) (string, error) {
	switch {
	case bytes.HasPrefix(b, []byte("%PDF-")):
		return formatPDF, nil
	case isHEIF(b):
		return formatHEIF, nil
	}
	f, ok := imagefile.Sniff(b)
	switch format := string(f); {
	case !ok:
		return "", imageErrorf("not a %s file (starts with % x)", documentFormats, b[:min(len(b), 8)])
	case f == imagefile.MPO:
		return formatJPEG, nil // an MPO's first picture is a plain JPEG
	case format == formatJPEG, format == formatPNG, format == formatTIFF, format == formatBMP:
		return format, nil
	}
	return "", imageErrorf("%s is not a format Document Intelligence reads (want %s)", f, documentFormats)
}

// isHEIF reports an ISO base media file whose brand is HEIF's.
func isHEIF(b []byte) bool {
	if len(b) < 12 || string(b[4:8]) != "ftyp" {
		return false
	}
	switch string(b[8:12]) {
	case "heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1":
		return true
	}
	return false
}

// pageCount is how many pages a PDF or TIFF holds (1 for other images), or
// 0 when it cannot be told without parsing the whole file.
func pageCount(format string, b []byte) int {
	switch format {
	case formatPDF:
		return pdfPages(b)
	case formatTIFF:
		return tiffPages(b)
	}
	return 1
}

var (
	pdfCount = regexp.MustCompile(`/Count\s+(\d+)`)
	pdfPage  = regexp.MustCompile(`/Type\s*/Page\b`)
)

// pdfPages reads the page tree's /Count (its root holds the largest), or
// counts the page objects; both are invisible in compressed object streams.
func pdfPages(b []byte) int {
	n := 0
	for _, m := range pdfCount.FindAllSubmatch(b, -1) {
		if c, err := strconv.Atoi(string(m[1])); err == nil {
			n = max(n, c)
		}
	}
	if n > 0 {
		return n
	}
	return len(pdfPage.FindAllIndex(b, -1))
}

// tiffPages counts the image file directories of a TIFF: one a page.
func tiffPages(b []byte) int {
	if len(b) < 8 {
		return 0
	}
	var order binary.ByteOrder = binary.LittleEndian
	if b[0] == 'M' {
		order = binary.BigEndian
	}
	seen := map[int]bool{}
	for off := int(order.Uint32(b[4:])); off != 0; {
		if off < 8 || off+2 > len(b) || seen[off] || len(seen) > DocumentMaxPages {
			return len(seen) // a broken chain: what was readable; a long one: enough to refuse
		}
		seen[off] = true
		next := off + 2 + 12*int(order.Uint16(b[off:]))
		if next+4 > len(b) {
			return len(seen)
		}
		off = int(order.Uint32(b[next:]))
	}
	return len(seen)
}

// The spec's patterns of model ids and page lists, so that a typo is
// refused here in a sentence rather than by the service.
var (
	modelIDPattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._~-]{1,63}$`)
	pagesPattern   = regexp.MustCompile(`^(\d+(-\d+)?)(,\s*(\d+(-\d+)?))*$`)
)

// CheckDocumentRequest checks a request's model id and pages locally.
func CheckDocumentRequest(req analyzer.DocumentRequest) error {
	const service = documentService
	if !modelIDPattern.MatchString(req.Model) {
		return fmt.Errorf("%s: model %q is not a model id (prebuilt-invoice, prebuilt-receipt, prebuilt-read, prebuilt-layout, prebuilt-idDocument or a custom model's id: letters, digits and ._~-, up to 64)", service, req.Model)
	}
	if req.Pages != "" && !pagesPattern.MatchString(req.Pages) {
		return fmt.Errorf("%s: pages %q: want 1-based page numbers and ranges such as 1-3,5", service, req.Pages)
	}
	return nil
}
