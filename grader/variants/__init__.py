"""Per-student variants: each student's own numbers, drawn from the rubric's ``variants``
block (``grader.rubric.variants``) as a pure function of the seed and the student id;
their answer keys, handouts, and the check for answers copied from another variant."""
