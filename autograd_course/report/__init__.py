"""``make report``: what the class got wrong, an item analysis for instructors after a grading run.

``records`` reads nbgrader's gradebook, the autograded notebooks and the trusted grader's outcomes into plain
records; ``messages`` reads the grader's texts (a failure's hint, a finding's rule); ``statistics`` computes the
numbers; ``misconceptions`` groups failures by the hint that names them; ``figures`` draws them; ``page`` writes
the HTML; ``__main__`` is the command line.
"""
