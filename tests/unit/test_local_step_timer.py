from local.step_timer import StepTimer


def test_the_line_names_the_steps_of_a_tenth_of_a_second_or_more():
    timer = StepTimer()
    timer.steps += [("table", 1.26), ("redis", 0.02), ("rows", 0.1)]
    assert str(timer).endswith(" s (table 1.3, rows 0.1)")


def test_the_line_says_when_no_step_was_slow():
    timer = StepTimer()
    with timer.step("console"):
        pass
    assert [name for name, _ in timer.steps] == ["console"]
    assert str(timer).endswith(" s (no step took 0.1 s)")
