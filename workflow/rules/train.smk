# Pre-training on pooled source scenes, then MAML meta-training (from that model, or from a
# fresh initialisation: meta.init); the validation curve of each model.


rule pretrain:
    input:
        frames=lambda w: frames_of("sources", w.source),
        code=CODE_TRAIN,
    output:
        model="results/models/{source}/{backbone}/pretrained/model.pt",
        snapshots="results/models/{source}/{backbone}/pretrained/snapshots.pt",
    log:
        "results/logs/pretrain/{source}_{backbone}.log",
    benchmark:
        "results/benchmarks/pretrain/{source}_{backbone}.tsv"
    conda:
        "../envs/fsad.yaml"
    threads: 2
    resources:
        gpu=GPU,
    params:
        cfg=lambda w: step_params("pretrain", source=w.source),
        frames=frames_args,
    shell:
        "fsad train --method pretrain --backbone {wildcards.backbone:q} "
        "--source {wildcards.source:q} {params.frames:q} --out {output.model:q} "
        "--threads {threads} --params {params.cfg:q} > {log:q} 2>&1"


rule meta_train:
    input:
        frames=lambda w: frames_of("sources", w.source),
        init=lambda w: (
            f"results/models/{w.source}/{w.backbone}/pretrained/model.pt"
            if config["meta"]["init"] == "pretrained"
            else []
        ),
        code=CODE_TRAIN,
    output:
        model="results/models/{source}/{backbone}/meta/k{shots}/model.pt",
        snapshots="results/models/{source}/{backbone}/meta/k{shots}/snapshots.pt",
    log:
        "results/logs/meta/{source}_{backbone}_k{shots}.log",
    benchmark:
        "results/benchmarks/meta/{source}_{backbone}_k{shots}.tsv"
    conda:
        "../envs/fsad.yaml"
    threads: 2
    resources:
        gpu=GPU,
    params:
        cfg=lambda w: step_params("meta", source=w.source),
        init=lambda w, input: ["--init", input.init] if input.init else [],
        frames=frames_args,
    shell:
        "fsad train --method meta --backbone {wildcards.backbone:q} "
        "--source {wildcards.source:q} {params.frames:q} {params.init:q} "
        "--shots {wildcards.shots:q} --out {output.model:q} --threads {threads} "
        "--params {params.cfg:q} > {log:q} 2>&1"


rule validate:
    input:
        model=lambda w: f"{model_dir(w.source, w.backbone, w.model)}/model.pt",
        snapshots=lambda w: f"{model_dir(w.source, w.backbone, w.model)}/snapshots.pt",
        frames=lambda w: frames_of("validation"),
        code=CODE_TRAIN + code("validation.py"),
    output:
        "results/validation/{source}/{backbone}/{model}.csv",
    log:
        "results/logs/validate/{source}_{backbone}_{model}.log",
    conda:
        "../envs/fsad.yaml"
    threads: 1
    resources:
        gpu=GPU,
    params:
        cfg=step_params("validate"),
    shell:
        "fsad validate --model {input.model:q} --frames {input.frames:q} --out {output:q} "
        "--threads {threads} --params {params.cfg:q} > {log:q} 2>&1"
