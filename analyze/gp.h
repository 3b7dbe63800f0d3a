/* gnuplot output helpers: every chart is a gnuplot script plus data files
 * in a report directory, run there with run_gnuplot(), so a reader can
 * tweak and redraw it by hand. */
#ifndef KM_ANALYZE_GP_H
#define KM_ANALYZE_GP_H

#include <stddef.h>
#include <stdio.h>

/* Colours for variants, allocators, phases and event types. */
extern const char *const gp_palette[];
extern const size_t gp_npalette;
#define GP_COLOUR(i) (gp_palette[(size_t)(i) % gp_npalette])

/* s as a gnuplot single-quoted string (a quote is doubled). */
void gp_str(FILE *f, const char *s);
/* s as a gnuplot double-quoted string: '\n' becomes a line break. */
void gp_qstr(FILE *f, const char *s);
/* A file-name-safe copy of s: [A-Za-z0-9._-], others become '_'. */
void safe_name(const char *s, char *out, size_t n);

/* "set terminal" (pngcairo for ext png, svg for svg: white background,
 * noenhanced) and "set output 'FILE.EXT'". */
void gp_terminal(FILE *f, const char *file, const char *ext, int width, int height);

/* Opens dir/name for writing; NULL with the reason in err. */
FILE *open_out(const char *dir, const char *name, char *err, size_t errlen);
/* Closes f; -1 with the reason in err if anything failed to be written. */
int close_out(FILE *f, const char *dir, const char *name, char *err, size_t errlen);

/* Runs gnuplot on script in dir (its working directory); 0 if it
 * succeeded, else -1 with the reason in err (missing gnuplot included). */
int run_gnuplot(const char *dir, const char *script, char *err, size_t errlen);

#endif
