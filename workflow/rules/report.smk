# Tables in the paper's layout and figures.


rule tables:
    input:
        auc="results/auc.csv",
        code=CODE_REPORT,
    output:
        md="results/tables/auc.md",
        csv="results/tables/auc_summary.csv",
    log:
        "results/logs/tables.log",
    conda:
        "../envs/fsad.yaml"
    shell:
        "fsad report tables --auc {input.auc} --out-md {output.md} --out-csv {output.csv} "
        "> {log} 2>&1"


rule figures:
    input:
        scores=target_scores,
        code=CODE_REPORT,
    output:
        directory("results/figures/{source}/{target}/{backbone}"),
    log:
        "results/logs/figures/{source}_{target}_{backbone}.log",
    conda:
        "../envs/fsad.yaml"
    shell:
        "fsad report figures {input.scores} --out {output} > {log} 2>&1"


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
        "fsad report tables --auc {input.auc} --out-md {output.md} --out-csv {output.csv} "
        "> {log} 2>&1"
