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
# Two neighbours on a row whose sizes differ by more than this share of the smaller, with at least a word space
# between them, are two lines: a caption (8-9 pt) set level with the body text beside it (10.5-11 pt) differs by
# 15 % or more; one size drawn by two readers or rounded differs by a few hundredths, and text of mixed sizes set
# tight (a smaller 等 or ※) leaves no space.
SIZE_STEP = 0.1
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
# characters are caught one by one (pipeline.core.text.unreadable_character).
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
# A photo is a raster image, or a vector frame: a closed outline, stroked or filled, with no character inside,
# whose sides are both at least this share of the page's shorter side (A4: 48 pt, 17 mm) and at most this many
# times each other. The smallest photos of the summaries and of every fixture are 84 pt high (the photos beside
# an overview), and a photo anyone can make out is about 2 cm across; check boxes, bullets and icons stay well
# under 1 cm. Photos are 1:1 to 16:9 (1.8); a rule, a band behind a heading or an empty table row is far longer
# than it is high. Measured on the page, not in points: slides are larger than A4, and scaled prints smaller.
PHOTO_MIN_SIDE_SHARE = 0.08
PHOTO_MAX_ASPECT = 3.0

# A scanned page: one image under at least this share of the page's area (a scan fills the page, margins and all;
# a photo, however large, leaves room for its plan's text). Its photos are found in its pixels, rendered at this
# many pixels a point (36 dpi: the smallest photo, 48 pt across, is 24 pixels; an A4 page 298 x 421 pixels, labelled
# in a few hundredths of a second), a pixel being ink where some channel is further than INK_LEVEL from white (a
# scan's paper is off-white, above 230; a photo is darker or coloured), and the text lines' boxes masked with a
# margin of TEXT_MASK_PT (a glyph's antialiased edge, an OCR box a point short of its ink).
SCAN_COVER_SHARE = 0.9
REGION_RENDER_SCALE = 0.5
INK_LEVEL = 48
TEXT_MASK_PT = 2.0

# Pages within a page (a handout, "pages per sheet"): closed frames of one size, in a grid, each holding text, that
# together hold nearly all of the sheet's text. Each side at least this share of the sheet's shorter side: nine
# pages to a sheet (3 x 3) leave each about 30 %, while a table's cells, a photo's frame or a boxed heading stay
# far under it. One size within this share of its sides: pages scaled alike are drawn at one size to the point,
# where boxes sized to their content differ by lines. The text outside the frames is the sheet's own print: a
# date, page numbers, `1 / 2`, at most this many characters each, and together at most this share of the text.
SUBPAGE_MIN_SIDE_SHARE = 0.2
SUBPAGE_SIZE_TOLERANCE = 0.02
SUBPAGE_OUTSIDE_SHARE = 0.1
SHEET_LABEL_MAX_CHARS = 12

# --- segment: lines to plans -------------------------------------------------------------------------------

# Share of the page height at the top and at the bottom where page furniture (page numbers, 別紙) stands:
# word processors' default header and footer margins are 7–10 % of an A4 page.
MARGIN_BAND = 0.1
# A line in the top or bottom band that recurs, digits masked, on at least this many pages is a running header or
# footer whatever it says (an organisation, a date, Page 3, 1/2, a document code): word processors print it on
# every page, so two pages are the fewest on which it shows, while the text of plans differs from page to page.
# It must stand between the page edge and the text (only furniture beyond it), so that the second line of a plan
# header wrapped alike at the top of two pages (【計画期間:…】) stays. A one-page document keeps the patterns alone.
FURNITURE_MIN_PAGES = 2
# A caption is one to three lines, each of the first line's size (two sizes closer than this are one: word
# processors offer half points, and extraction rounds to a tenth): a longer run of lines set alike under a photo
# is the text going on, and none of it is a caption.
MAX_CAPTION_LINES = 3
SAME_SIZE_PT = 0.25
# A caption stands at most this many of its own lines from its photo (below, above or beside it), a line being its
# size plus the document's leading scaled to that size, as word processors scale line spacing; or, when the
# document spaces its paragraphs wider, at most its usual paragraph spacing. A word processor sets a caption in
# a paragraph of its own, a paragraph's spacing away. Measured in caption lines: LibreOffice Writer's table
# fixture 1.46 (13.2 pt under 9 pt captions, leading 0), the Writer paragraphs fixture 1.55 (15 pt, leading
# 0.8 pt), the Impress slides 0.5, the Writer and Word prints the issue reports 1.6–1.8, our renderer 0.29.
# Two lines take 1.8 with a margin; more would reach a short line set a blank line and more under a photo without
# a caption. Its next lines follow within the document's paragraph gap (PARAGRAPH_EXTRA_EM below).
CAPTION_REACH_LINES = 2.0
# The usual paragraph spacing is the median of the gaps wider than the paragraph gap and narrower than this many
# body lines (size plus leading): wider gaps hold a photo or a section break (paragraph spacing is 11–19 pt at
# 15.75 pt lines in our renderer's fixtures, 8.8 pt at 11.3 pt lines in the Writer paragraphs fixture, 17 pt
# between table rows at 10.5 pt lines in LibreOffice's table fixture; photos are 84 pt high and more).
PARAGRAPH_SPACING_MAX_LINES = 3.0
# Captions measure the leading as the lower quartile of the gaps under two lines, not their median: in the
# summaries most paragraphs are one line (a pillar title, a project), and in a word processor's print the median
# is then the paragraph spacing (the Writer fixture: 8.8 pt between paragraphs, 0.8 pt within one).
LEADING_QUANTILE = 0.25
# A line stands under (or over) a photo, in its column, when it shares at least this share of the narrower one's
# width; a photo is in the row of another when they share this share of the shorter one's height. Less is the
# caption of the next photo of a row reaching under this one, or a photo of a staggered layout.
PHOTO_OVERLAP_SHARE = 0.5
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
# A stray token: a line of at most this many characters and no Japanese (a slide or page number, a label) that
# stands apart from the line before it in reading order (its left edge more than COLUMN_ALIGN_EM off that line's,
# or its size off by more than SAME_SIZE_PT) joins no block: a slide number at a slide's foot would otherwise end
# its last project (…等3). Three characters hold page numbers up to 999 and labels such as A-1; a wrapped line's
# last characters (等）, 援）) are Japanese or stand under the line they continue.
STRAY_MAX_CHARS = 3
