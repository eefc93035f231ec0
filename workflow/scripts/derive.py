"""Snakemake entry point of rule derive: baseline flag, BASE and CHG per parameter."""

from trialreport.pipeline import derive, run_stage

sm = snakemake  # noqa: F821 - injected by Snakemake
run_stage("derive", derive, sm.log[0], trial=sm.params.trial,
          inputs={"scores": sm.input.scores}, outputs={"efficacy": sm.output.efficacy})
