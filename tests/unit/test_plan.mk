# the plan as sampled takes it: the checks (lib/plancheck.c, in libns), and
# slot_apply over the real bindings, samplers and caches (no captures)
test_plan_UNITS := sampled/plan.c sampled/sampler.c sampled/cache.c \
                   sampled/fields.c sampled/push.c sampled/capture.c \
                   sampled/live.c sampled/gso.c sampled/decode.c sampled/workers.c \
                   sampled/clock.c sampled/devwatch.c
