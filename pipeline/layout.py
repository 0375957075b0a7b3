"""Layout parameters: every threshold that reads structure off a page, with the reason for its value.

Lengths are in multiples of the font size (em) of the text concerned, or shares of the page, never in
points: summaries come from word processors, spreadsheets and slide software at any scale. A maintainer
who sees a new summary read wrongly (a caption glued to a project, a column merged with its neighbour)
tunes it here, and the tests say which layouts still read.
"""

# Boxes that touch may overlap by this much through rounding of their coordinates: a glyph in a vertical
# column, a caption right under its photo, a title right of its number, a caption level with its plan's header,
# the pieces of a ruling drawn cell by cell and the corners where the sides of a cell meet.
BOX_SLACK_PT = 1.0

# --- extract: characters to lines -------------------------------------------------------------------------

# A horizontal gap wider than this between two characters of one row separates two columns (text beside a
# photo, a table cell), and a vertical strip of white this wide (in the page's median font size) that no text,
# photo or ruling crosses is a gutter between columns read one after the other. Letter and word spacing stay
# under 1 em even in justified text; a gutter between columns is wider than two characters, or it would read as
# running text to a person too.
COLUMN_GAP_EM = 2.0
# A gap wider than this between two Latin characters is a word space: proportional Latin glyphs sit about
# 0.05 em apart, a space is about 0.25 em wide.
WORD_GAP_EM = 0.2
# A character joins one of the last few rows when its vertical middle falls inside that row's first
# character: rows with a superscript or a photo caption set beside them stay whole. More than three open
# rows would let a low line of one column join a row of the next.
ROW_LOOKBACK = 3
# A ruling (a drawn straight line) borders a cell only when it is at least one character (of the page's median
# size) long, after the pieces a grid is drawn in are joined: a cell holds at least one character, so each of its
# sides is at least that long; shorter strokes are marks (a tick, a bullet or a letter drawn as a path).
MIN_RULING_EM = 1.0
# Characters of one glyph drawn twice (fake bold) sit a fraction of a point apart; pdfplumber's default.
DEDUPE_TOLERANCE_PT = 1.0
# Share of a page's characters that must read (printable ASCII or Japanese script) for its text to be trusted:
# pypdfium2's reading of a page with unmapped glyphs replaces pdfminer's only when it reaches this share, and
# segment keeps no plan with a line on a page below it. The pages of the sample and of every fixture read at
# 0.98 or more (their other characters are a few symbols: ①, ○, ×); a font whose Unicode map is broken often
# turns more than one character in ten into (cid:N) runs, control characters or Latin-1 gibberish. Fewer such
# characters are caught one by one (pipeline.text.unreadable_character).
MIN_READABLE_SHARE = 0.9
# Vertical writing: a glyph lies below its predecessor when it moved less than half a character across
# and between half and two characters down; it lies to the right when it moved less than half a character
# down and up to three across (letter spacing and a space). A page is vertical when at least this many
# steps go down and they outnumber the steps to the right: a stray column of single characters (a table's
# row numbers) stays horizontal.
VERTICAL_STEP_ACROSS_EM = 0.5
VERTICAL_STEP_DOWN_EM = (0.5, 2.0)
HORIZONTAL_STEP_RIGHT_EM = 3.0
MIN_VERTICAL_STEPS = 10

# --- segment: lines to plans -------------------------------------------------------------------------------

# Share of the page height at the top and at the bottom where page furniture (page numbers, 別紙) stands:
# word processors' default header and footer margins are 7–10 % of an A4 page.
MARGIN_BAND = 0.1
# A caption is one or two lines: three or more lines under a photo are the text going on.
MAX_CAPTION_LINES = 2
# The first caption line stands at most this far below its photo, a second one at most this far below the
# first (in caption sizes): a caption is set closer to its photo than a paragraph to the next.
CAPTION_FIRST_GAP_EM = 1.5
CAPTION_NEXT_GAP_EM = 0.8
# A caption is centred on its photo when its middle is within this share of the photo's width of the
# photo's middle; otherwise it must lie within the photo's width, give or take one caption size.
CAPTION_CENTRE_SHARE = 0.25
# Gaps between lines count towards the document's usual leading only when under two line heights;
# larger ones are paragraph or section breaks. Half a line more than the usual leading breaks a paragraph.
LEADING_MAX_EM = 2.0
PARAGRAPH_EXTRA_EM = 0.5
# Without two lines to measure (a one-line document): the gap between lines of 10-point text at 1.2 times its
# size, word processors' default line spacing, and that 10-point size, a common body size.
DEFAULT_LEADING_PT = 2.0
DEFAULT_SIZE_PT = 10.0
# A line ends a block when it stops this many of its characters short of its plan's right text edge on the page
# (the furthest right the plan's lines reach there: a column's edge when two plans stand side by side), and a
# line in a closed cell runs on into the next when it reaches the cell's right side (less the padding its text
# keeps on the left) within this many characters: a wrapped line of running text fills the measure to within
# one or two characters.
SHORT_LINE_EM = 2.0
# A lone pillar number finds its title on its own row (its middle within half a line) or, in a table cell
# that centres the number vertically, up to three lines above it; a line above the title in its column
# (left edges within one character) closes that column's block, and a pillar number the text patterns doubt
# (3社会…) is vouched for by a pillar heading whose left edge lies within one character of its own.
LABEL_ROW_EM = 0.5
LABEL_REACH_UP_EM = 3.0
COLUMN_ALIGN_EM = 1.0
