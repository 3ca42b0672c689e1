# Tables in the paper's layout and figures, all in `snakemake --report results/report.html`.


rule tables:
    input:
        auc="results/auc.csv",
        code=CODE_REPORT,
    output:
        md=report(
            "results/tables/auc.md",
            caption="../report/tables.rst",
            category="AUC tables",
        ),
        csv=report(
            "results/tables/auc_summary.csv",
            caption="../report/tables.rst",
            category="AUC tables",
        ),
    log:
        "results/logs/tables.log",
    conda:
        "../envs/fsad.yaml"
    shell:
        "fsad report tables --auc {input.auc:q} --out-md {output.md:q} --out-csv {output.csv:q} "
        "> {log:q} 2>&1"


rule figures:
    input:
        scores=target_scores,
        code=CODE_REPORT,
    output:
        report(
            directory("results/figures/{source}/{target}/{backbone}"),
            patterns=["{name}.png"],
            caption="../report/figures.rst",
            # {name} comes from the pattern: roc.png or scores_<video>.png
            category=lambda w: "ROC curves" if w.name == "roc" else "Per-video scores",
            subcategory="{source} to {target}, {backbone}",
            labels={
                "target": "{target}",
                "backbone": "{backbone}",
                "figure": "{name}",
            },
        ),
    log:
        "results/logs/figures/{source}_{target}_{backbone}.log",
    conda:
        "../envs/fsad.yaml"
    shell:
        "fsad report figures {input.scores:q} --out {output:q} > {log:q} 2>&1"


rule backbone_table:
    input:
        auc="results/backbones/auc.csv",
        code=CODE_REPORT,
    output:
        md="results/tables/backbones.md",
        csv="results/tables/backbones.csv",
    log:
        "results/logs/backbone_table.log",
    conda:
        "../envs/fsad.yaml"
    shell:
        "fsad report tables --auc {input.auc:q} --out-md {output.md:q} --out-csv {output.csv:q} "
        "> {log:q} 2>&1"


rule validation_figure:
    input:
        curves=lambda w: validation_curves(w.source, w.backbone),
        code=CODE_REPORT,
    output:
        report(
            "results/figures/validation/{source}_{backbone}.png",
            caption="../report/validation.rst",
            category="Validation curves",
        ),
    log:
        "results/logs/figures/validation_{source}_{backbone}.log",
    conda:
        "../envs/fsad.yaml"
    shell:
        "fsad report validation {input.curves:q} --out {output:q} > {log:q} 2>&1"
