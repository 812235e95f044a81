"""The ``evaluate`` module directory (``evaluate.load(str(path_of_this_folder))``); a package so wheels ship it."""
