# K-shot adaptation + scoring: one job per (source, target, backbone, method) writes the
# scores file of every (K, seed) cell; AUC over all of them.


rule score:
    input:
        models=score_job_models,
        frames=lambda w: frames_of("targets", w.target),
        code=CODE_SCORE,
    output:
        [
            score_file("{source}", "{target}", "{backbone}", "{method}", k, s)
            for k, s in score_cells()
        ],
    log:
        "results/logs/score/{source}/{target}/{backbone}/{method}.log",
    wildcard_constraints:
        source=r"(?!full-)[A-Za-z0-9_\-]+",
    conda:
        "../envs/fsad.yaml"
    threads: 1
    resources:
        gpu=GPU,
    params:
        cfg=lambda w: step_params("score", target=w.target),
        cells=score_job_cells,
    shell:
        "fsad score --frames {input.frames:q} --target {wildcards.target:q} "
        "--source {wildcards.source:q} --method {wildcards.method:q} {params.cells:q} "
        "--threads {threads} --params {params.cfg:q} > {log:q} 2>&1"


rule evaluate:
    input:
        scores=all_score_files(),
        code=CODE_EVAL,
    output:
        auc=report(
            "results/auc.csv", caption="../report/auc.rst", category="AUC tables"
        ),
        metrics="results/metrics.json",
    log:
        "results/logs/evaluate.log",
    conda:
        "../envs/fsad.yaml"
    shell:
        "fsad evaluate {input.scores:q} --out {output.auc:q} --metrics {output.metrics:q} "
        "> {log:q} 2>&1"


# The backbone comparison (r-GAN vs r-GAN* vs r-VAE) on the configured data, whatever
# `backbones` lists: `snakemake results/tables/backbones.csv`.
rule evaluate_backbones:
    input:
        scores=all_score_files(ALL_BACKBONES),
        code=CODE_EVAL,
    output:
        auc="results/backbones/auc.csv",
    log:
        "results/logs/evaluate_backbones.log",
    conda:
        "../envs/fsad.yaml"
    shell:
        "fsad evaluate {input.scores:q} --out {output.auc:q} > {log:q} 2>&1"


# A model trained on a target's own training videos (source full-<target>) is scored
# unadapted only.
rule score_full_data:
    input:
        model="results/models/{source}/{backbone}/pretrained/model.pt",
        frames=lambda w: frames_of("targets", w.target),
        code=CODE_SCORE,
    output:
        "results/scores/{source}/{target}/{backbone}/pretrained/k0/seed0.csv",
    log:
        "results/logs/score/{source}/{target}/{backbone}/pretrained.log",
    wildcard_constraints:
        source=r"full-[A-Za-z0-9_\-]+",
    conda:
        "../envs/fsad.yaml"
    threads: 1
    resources:
        gpu=GPU,
    params:
        cfg=lambda w: step_params("score", target=w.target),
    shell:
        "fsad score --model {input.model:q} --frames {input.frames:q} "
        "--target {wildcards.target:q} --shots 0 --source {wildcards.source:q} "
        "--method pretrained --out {output:q} --threads {threads} --params {params.cfg:q} "
        "> {log:q} 2>&1"


# The standard (full-data) table: each target in `full_data` trained on its own training
# videos (source full-<target>) and scored unadapted.
rule evaluate_full_data:
    input:
        scores=full_data_scores(),
        code=CODE_EVAL,
    output:
        auc="results/tables/full_data.csv",
    log:
        "results/logs/evaluate_full_data.log",
    conda:
        "../envs/fsad.yaml"
    shell:
        "fsad evaluate {input.scores:q} --out {output.auc:q} > {log:q} 2>&1"
