#!/usr/bin/env python3
"""An independent COCO box evaluation, written from the COCO definition
(cocodataset.org/#detection-eval and pycocotools' COCOeval, iouType bbox),
in plain Python, to check Sightline's Go implementation against.

usage: cocoeval_ref.py CASE.json  ->  prints the figures as JSON

CASE.json: {"dataset": COCO detection JSON, "detections": [{"image_id",
"category_id", "score", "bbox": [x,y,w,h]}], "iou": tuning IoU}

It shares no code with the Go package: it follows COCOeval's structure
(evaluateImg per image and category, then accumulate and summarize), with
area range "all" and maxDets 100.
"""
import json
import sys

MAX_DETS = 100
EPS = 2.220446049250313e-16  # numpy.spacing(1)


def linspace(start, stop, num):
    step = (stop - start) / (num - 1)
    values = [i * step + start for i in range(num)]
    values[-1] = stop
    return values


IOU_THRS = linspace(0.5, 0.95, 10)
REC_THRS = linspace(0.0, 1.0, 101)


def iou(dt, gt, crowd):
    dx, dy, dw, dh = dt
    gx, gy, gw, gh = gt
    iw = min(dx + dw, gx + gw) - max(dx, gx)
    ih = min(dy + dh, gy + gh) - max(dy, gy)
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    union = dw * dh if crowd else dw * dh + gw * gh - inter
    return inter / union


def evaluate_img(gts, dts, thresholds):
    """Greedy matching for one image and category, as COCOeval.evaluateImg."""
    if not gts and not dts:
        return None
    gts = sorted(gts, key=lambda g: g.get("iscrowd", 0))  # stable
    dts = sorted(dts, key=lambda d: -d["score"])[:MAX_DETS]  # stable
    crowd = [g.get("iscrowd", 0) == 1 for g in gts]
    ious = [[iou(d["bbox"], g["bbox"], crowd[j]) for j, g in enumerate(gts)] for d in dts]
    matches, ignores = [], []
    for t in thresholds:
        gt_taken = [False] * len(gts)
        dt_matched = [False] * len(dts)
        dt_ignored = [False] * len(dts)
        for i in range(len(dts)):
            best = min(t, 1 - 1e-10)
            m = -1
            for j in range(len(gts)):
                if gt_taken[j] and not crowd[j]:
                    continue
                if m > -1 and not crowd[m] and crowd[j]:
                    break
                if ious[i][j] < best:
                    continue
                best = ious[i][j]
                m = j
            if m == -1:
                continue
            dt_ignored[i] = crowd[m]
            dt_matched[i] = True
            gt_taken[m] = True
        matches.append(dt_matched)
        ignores.append(dt_ignored)
    return {
        "scores": [d["score"] for d in dts],
        "matched": matches,
        "ignored": ignores,
        "npig": sum(1 for c in crowd if not c),
    }


def accumulate(evals, t):
    """Cumulative TP/FP down the score ranking, as COCOeval.accumulate."""
    flat = []
    for e in evals:
        for i, s in enumerate(e["scores"]):
            flat.append((s, e["matched"][t][i], e["ignored"][t][i]))
    flat.sort(key=lambda x: -x[0])  # stable, like mergesort
    tp = fp = 0
    out = []
    for s, matched, ignored in flat:
        if not ignored:
            if matched:
                tp += 1
            else:
                fp += 1
        out.append((s, tp, fp))
    return out


def interpolated_ap(cum, npig):
    rc = [tp / npig for _, tp, _ in cum]
    pr = [tp / (fp + tp + EPS) for _, tp, fp in cum]
    for i in range(len(pr) - 1, 0, -1):
        if pr[i] > pr[i - 1]:
            pr[i - 1] = pr[i]
    q = []
    for r in REC_THRS:
        # first index with rc >= r (numpy.searchsorted, side="left")
        lo, hi = 0, len(rc)
        while lo < hi:
            mid = (lo + hi) // 2
            if rc[mid] < r:
                lo = mid + 1
            else:
                hi = mid
        q.append(pr[lo] if lo < len(rc) else 0.0)
    return q


def best_f1(cum, npig):
    best = (0.0, 1.0, 0.0, 0.0)  # f1, threshold, precision, recall
    for i, (s, tp, fp) in enumerate(cum):
        if i + 1 < len(cum) and cum[i + 1][0] == s:
            continue
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / npig
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        if f1 > best[0]:
            best = (f1, s, p, r)
    return best


def main(path):
    case = json.load(open(path))
    ds, dets, tune = case["dataset"], case["detections"], case.get("iou", 0.5)
    thresholds = list(IOU_THRS)
    tune_index = next((i for i, t in enumerate(thresholds) if abs(t - tune) < 1e-9), None)
    if tune_index is None:
        thresholds.append(tune)
        tune_index = len(thresholds) - 1
    img_ids = sorted({im["id"] for im in ds["images"]})
    gts, dts = {}, {}
    for a in ds["annotations"]:
        gts.setdefault((a["image_id"], a["category_id"]), []).append(a)
    for d in dets:
        dts.setdefault((d["image_id"], d["category_id"]), []).append(d)
    out = {"images": len(img_ids), "classes": {}}
    ap50s, aps = [], []
    for cat in sorted(ds["categories"], key=lambda c: c["id"]):
        evals = []
        for i in img_ids:
            e = evaluate_img(gts.get((i, cat["id"]), []), dts.get((i, cat["id"]), []), thresholds)
            if e is not None:
                evals.append(e)
        npig = sum(e["npig"] for e in evals)
        if npig == 0:
            continue
        per_t = [interpolated_ap(accumulate(evals, t), npig) for t in range(len(IOU_THRS))]
        ap50 = sum(per_t[0]) / len(per_t[0])
        ap = sum(sum(q) for q in per_t) / (len(per_t) * len(REC_THRS))
        f1, thr, p, r = best_f1(accumulate(evals, tune_index), npig)
        out["classes"][cat["name"]] = {
            "ap50": ap50, "ap50_95": ap, "ground_truth": npig,
            "best_threshold": thr, "precision": p, "recall": r, "f1": f1,
        }
        ap50s.append(ap50)
        aps.append(ap)
    out["map50"] = sum(ap50s) / len(ap50s)
    out["map50_95"] = sum(aps) / len(aps)
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    print()


if __name__ == "__main__":
    main(sys.argv[1])
