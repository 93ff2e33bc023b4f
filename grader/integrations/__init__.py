"""Where instructors grade: GitHub Classroom, Gradescope, Canvas and Moodle.

Each module renders the same ``StudentResult``s in one platform's format (pure
functions: results in, text or JSON out), plus the one function its command calls:

- ``classroom``: the ``result`` output that ``autograding-grading-reporter`` reads;
- ``gradescope``: ``results.json`` of Gradescope's autograder specification;
- ``canvas`` and ``moodle``: gradebook files for their CSV grade imports;
- ``roster``: matching our student ids to an LMS roster, and reporting who is missing;
- ``lms``: the ``--format``/``--roster`` exports of ``grade``.
"""
