"""Rendering: the template engine, the values templates print, the targets, and the tree
assembler — plan() and index.json.   (pure)"""
