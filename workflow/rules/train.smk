# Pre-training on pooled source scenes, then MAML meta-training from that model.


rule pretrain:
    input:
        frames=lambda w: frames_of("sources", w.source),
        code=CODE_TRAIN,
    output:
        "results/models/{source}/{backbone}/pretrained/model.pt",
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
    shell:
        "fsad train --method pretrain --backbone {wildcards.backbone:q} "
        "--source {wildcards.source:q} --frames {input.frames:q} --out {output:q} "
        "--threads {threads} --params {params.cfg:q} > {log:q} 2>&1"


rule meta_train:
    input:
        frames=lambda w: frames_of("sources", w.source),
        init="results/models/{source}/{backbone}/pretrained/model.pt",
        code=CODE_TRAIN,
    output:
        "results/models/{source}/{backbone}/meta/k{shots}/model.pt",
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
    shell:
        "fsad train --method meta --backbone {wildcards.backbone:q} "
        "--source {wildcards.source:q} --frames {input.frames:q} --init {input.init:q} "
        "--shots {wildcards.shots:q} --out {output:q} --threads {threads} "
        "--params {params.cfg:q} > {log:q} 2>&1"
