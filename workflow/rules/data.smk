# Raw data -> HDF5 frame stores.


rule synth:
    input:
        CODE_DATA,
    output:
        directory("results/raw/{dataset}"),
    log:
        "results/logs/synth/{dataset}.log",
    conda:
        "../envs/fsad.yaml"
    params:
        cfg=step_params("synth"),
    shell:
        "fsad synth --out {output:q} --params {params.cfg:q} > {log:q} 2>&1"


rule extract:
    input:
        root=dataset_root,
        code=CODE_DATA,
    output:
        "results/frames/{dataset}.h5",
    log:
        "results/logs/extract/{dataset}.log",
    conda:
        "../envs/fsad.yaml"
    threads: 2
    params:
        cfg=lambda w: step_params("extract", dataset=w.dataset),
    shell:
        "fsad extract --dataset {wildcards.dataset:q} --out {output:q} --threads {threads} "
        "--params {params.cfg:q} > {log:q} 2>&1"
