"""Contests: the Technical Creativity Contest and the Youth & Children's Creativity Contest, judged fairly and in the open."""
