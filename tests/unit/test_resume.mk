# the resume state of sampled (lib/resume.c, in libns)
test_resume_UNITS :=
