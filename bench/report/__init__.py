"""From a finished Run to what people read: the targets, the tables of bench/README.md
(Markdown, on stdout) and the JSON file under bench/results/."""
