package azure

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// ExportModelFile is the model in an ONNX export, beside labels.txt.
const ExportModelFile = "model.onnx"

// maxUnpackedBytes bounds what an export may unpack to, so that a broken
// or hostile archive cannot fill the disk.
const maxUnpackedBytes = 2 << 30

// unpackExport unpacks an export archive into dir so that dir holds
// model.onnx at its top (the archive may have it in one top-level
// folder). It unpacks into a new folder beside dir and only then swaps it
// in by two renames, so dir never holds half a model or a mix of two
// (between the renames, for an instant, it is absent); the old model is
// removed. A failed unpack, or a model verify (when set) refuses, leaves
// the old model as it was.
func unpackExport(archive []byte, dir string, verify func(dir string) error) error {
	zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		return fmt.Errorf("not a zip archive: %w", err)
	}
	prefix, err := modelPrefix(zr)
	if err != nil {
		return err
	}
	dir = filepath.Clean(dir)
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".new-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp) // a no-op once renamed
	if err := extract(zr, prefix, tmp); err != nil {
		return err
	}
	if verify != nil {
		if err := verify(tmp); err != nil {
			return fmt.Errorf("the exported model does not load, so %s was left as it was: %w", dir, err)
		}
	}
	return swapDir(tmp, dir)
}

// modelPrefix returns the folder of the archive's model.onnx ("" at the
// top), refusing archives without one.
func modelPrefix(zr *zip.Reader) (string, error) {
	for _, f := range zr.File {
		name := path.Clean(f.Name)
		if path.Base(name) == ExportModelFile && strings.Count(name, "/") <= 1 {
			return strings.TrimSuffix(name, ExportModelFile), nil
		}
	}
	return "", fmt.Errorf("the archive has no %s (is it an ONNX export?)", ExportModelFile)
}

// extract writes the archive's regular files under prefix into dir,
// refusing names that would land outside it.
func extract(zr *zip.Reader, prefix, dir string) error {
	var total int64
	for _, f := range zr.File {
		name := path.Clean(f.Name)
		if !f.Mode().IsRegular() || !strings.HasPrefix(name, prefix) {
			continue
		}
		rel := filepath.FromSlash(strings.TrimPrefix(name, prefix))
		if !filepath.IsLocal(rel) {
			return fmt.Errorf("the archive's file %q would land outside the export folder", f.Name)
		}
		n, err := extractFile(f, filepath.Join(dir, rel), maxUnpackedBytes-total)
		if err != nil {
			return err
		}
		total += n
	}
	return nil
}

func extractFile(f *zip.File, dst string, budget int64) (int64, error) {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return 0, err
	}
	r, err := f.Open()
	if err != nil {
		return 0, fmt.Errorf("the archive's %s: %w", f.Name, err)
	}
	defer r.Close()
	w, err := os.Create(dst)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(w, io.LimitReader(r, budget+1))
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err == nil && n > budget {
		err = fmt.Errorf("the archive unpacks to more than %d MiB", maxUnpackedBytes>>20)
	}
	if err != nil {
		return n, fmt.Errorf("the archive's %s: %w", f.Name, err)
	}
	return n, nil
}

// swapDir replaces dir by fresh: the old folder is moved aside, fresh
// takes its name, then the old one is removed.
func swapDir(fresh, dir string) error {
	old := ""
	if _, err := os.Stat(dir); err == nil {
		old = fresh + ".old"
		if err := os.Rename(dir, old); err != nil {
			return err
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.Rename(fresh, dir); err != nil {
		if old != "" {
			_ = os.Rename(old, dir) // put the old model back
		}
		return err
	}
	if old != "" {
		return os.RemoveAll(old)
	}
	return nil
}
