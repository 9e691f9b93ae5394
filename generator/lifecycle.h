/*
 * lifecycle: what needs attention -- reviews that are overdue, documents to
 * update after an incident review (a lesson newer than their last review
 * affects them or one of their controls), open and overdue action items.
 * Findings are warnings with stable codes (review-overdue, needs-update,
 * action-overdue) so `tebiki check` can report them.
 */
#ifndef LIFECYCLE_H
#define LIFECYCLE_H

struct build;
struct value;

/* Computes the derived states of every page and the action list. */
void	life_compute(struct build *);
/* yyyymmdd of a date value (DATE or a date string), 0 otherwise. */
int	life_date(const struct value *);
/* Adds a period such as "12m" to yyyymmdd; 0 on a bad period. */
int	life_add_period(int ymd, const char *period);

#endif
