"""Task variance and the clustering of units by it (Yang et al. 2019, figure 2).

Yang, Joglekar, Song, Newsome & Wang, Nature Neuroscience 22, 297-306 (2019), and their
code (gyyang/multitask, ``analysis/variance.py`` and ``analysis/clustering.py``):

* the task variance of a unit in a task is the variance of its activity across the test
  trials of the task at each time step, averaged over the steps after the fixation
  period (their ``h[fix1 end:].var(axis=1).mean(axis=0)``, data type "rule": the
  stimulus, delay and response epochs). neurogym's trials differ in timing within a task,
  so each trial is aligned at the end of its fixation period and the steps are the first
  L after it, L the shortest such span among the task's trials. Their test trials are
  noise-free; neurogym's carry its input noise here;
* units whose summed task variance is at most :data:`ACTIVE_VARIANCE` (their 1e-3) are
  dropped, and each remaining unit's variances are divided by their sum (the fraction of
  its variance in each task; their analysis code also offers division by the maximum);
* units are clustered hierarchically (``scipy.cluster.hierarchy``) with average linkage
  on cosine distances, the choice of their first clustering code (``AgglomerativeClustering
  (affinity='cosine', linkage='average')``; the published one uses k-means), the number
  of clusters maximising the silhouette score (cosine) between 2 and 30, as they choose
  it, and clusters ordered by the task with the largest summed fraction, as they do.
"""

from __future__ import annotations

import numpy as np
import torch

ACTIVE_VARIANCE = 1e-3  # Yang et al.'s threshold on a unit's summed task variance
MAX_CLUSTERS = 30  # the largest number of clusters tried, as in their code


def task_variance(rates: torch.Tensor, starts: torch.Tensor, steps: torch.Tensor) -> torch.Tensor:
    """The task variance (E, N) of activities ``rates`` (E, B, T, N) of B trials of one
    task, trial b running for ``steps[b]`` steps with its fixation ending at ``starts[b]``
    (module docstring): the variance across trials at each aligned step, averaged over
    the steps."""
    span = int((steps - starts).min())
    if span < 1:
        raise ValueError("a trial has no step after its fixation period")
    index = starts.to(rates.device)[:, None] + torch.arange(span, device=rates.device)
    E, B, _, N = rates.shape
    aligned = rates.gather(2, index[None, :, :, None].expand(E, B, span, N))
    return aligned.var(dim=1, correction=0).mean(dim=1)


def cluster_units(variance: np.ndarray) -> dict:
    """The clustering of one network's units by their task variance (N, tasks): the
    active units (``units``, indices), their fractions of variance per task sorted by
    cluster (``fractions``, (active, tasks)), their cluster labels 0, 1, ... in that order
    (``labels``), and ``summary`` {"active", "clusters"}."""
    from scipy.cluster.hierarchy import fcluster, linkage  # here: importing neurodyn stays fast
    from sklearn.metrics import silhouette_score

    total = variance.sum(1)
    active = np.flatnonzero(total > ACTIVE_VARIANCE)
    fractions = variance[active] / total[active, None]
    labels = np.zeros(len(active), dtype=int)
    if len(active) >= 3:
        tree = linkage(fractions, method="average", metric="cosine")
        best = -np.inf
        for count in range(2, min(MAX_CLUSTERS, len(active) - 1) + 1):
            found = fcluster(tree, count, criterion="maxclust")
            if len(set(found)) < 2:
                continue
            score = silhouette_score(fractions, found, metric="cosine")
            if score > best:
                best, labels = score, found
    preferred = {c: int(fractions[labels == c].sum(0).argmax()) for c in set(labels.tolist())}
    ranks = {c: k for k, c in enumerate(sorted(preferred, key=lambda c: (preferred[c], c)))}
    labels = np.array([ranks[c] for c in labels.tolist()], dtype=int)
    order = np.argsort(labels, kind="stable")
    return {
        "units": active[order],
        "fractions": fractions[order],
        "labels": labels[order],
        "summary": {"active": len(active), "clusters": len(ranks)},
    }
