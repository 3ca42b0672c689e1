# fsad: few-shot scene-adaptive anomaly detection, as one Snakemake DAG.
#   snakemake --cores all                                 everything (default target)
#   snakemake --cores 8 --resources gpu=1 results/auc.csv the headline table only
#   snakemake --configfile config/paper.yaml ...          the paper's datasets and grid
# Rules live in workflow/rules/; each calls exactly one `fsad` subcommand.

from snakemake.utils import min_version

min_version("9.20")


report: "workflow/report/workflow.rst"


# config/config.yaml is the default; a --configfile replaces it instead of being merged
# into it (a merge would keep the default's sources and targets beside the new ones).
if not workflow.overwrite_configfiles:

    configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/report.smk"


# Defined here, not in an included file: Snakemake ignores `default_target` in includes.
rule all:
    default_target: True
    input:
        "results/auc.csv",
        "results/tables/auc.md",
        figure_dirs(),
        validation_figures(),
        ["results/tables/full_data.csv"] if config["full_data"] else [],
