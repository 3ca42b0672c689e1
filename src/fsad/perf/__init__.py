"""Benchmarking, beside the core (`fsad bench`): nothing in the pipeline imports it.

* ``timing``: median wall times, alternating side-by-side rounds, FLOP counts;
* ``workload``: what is timed: fresh models, random windows and tasks, configs with the
  benchmark's knobs changed (``at``);
* ``ratios``: the default suite, each figure a ratio of two things timed side by side;
* ``scaling``: cost against K, tasks, image size and video length;
* ``memory``: peak memory of one meta-iteration, measured in a child process;
* ``peer``: fsad at the settings at which the authors' code was timed;
* ``throughput``: throughput on the device's fast path against its peak, and the wall time
  of the config's whole grid projected from it;
* ``reference``: figures from outside fsad (bench/reference_figures.yaml), with sources;
* ``report``: the suites as `fsad bench` prints them.
"""
