# K-shot adaptation + scoring per (target, method, K, seed); AUC over all of them.


rule score:
    input:
        model=score_model,
        frames=lambda w: frames_of("targets", w.target),
        code=CODE_SCORE,
    output:
        "results/scores/{source}/{target}/{backbone}/{method}/k{shots}/seed{seed}.csv",
    log:
        "results/logs/score/{source}/{target}/{backbone}/{method}_k{shots}_seed{seed}.log",
    conda:
        "../envs/fsad.yaml"
    threads: 1
    resources:
        gpu=GPU,
    params:
        cfg=lambda w: step_params("score", target=w.target),
    shell:
        "fsad score --model {input.model:q} --frames {input.frames:q} "
        "--target {wildcards.target:q} --shots {wildcards.shots:q} --seed {wildcards.seed:q} "
        "--source {wildcards.source:q} --method {wildcards.method:q} --out {output:q} "
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
