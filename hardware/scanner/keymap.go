package scanner

// Linux input event types and key codes (linux/input-event-codes.h) that the
// keyboard-wedge decoder understands.
const (
	evSyn = 0x00
	evKey = 0x01

	synReport  = 0
	synDropped = 3

	keyEnter      = 28
	keyLeftCtrl   = 29
	keyLeftShift  = 42
	keyRightShift = 54
	keyLeftAlt    = 56
	keyCapsLock   = 58
	keyKPEnter    = 96
	keyRightCtrl  = 97
	keyRightAlt   = 100
	keyLeftMeta   = 125
	keyRightMeta  = 126

	keyReleased = 0
	keyPressed  = 1
	keyRepeated = 2
)

// keyChar maps a key code to what it types on a US layout without and with
// Shift. Keys a barcode scanner does not type for data (function keys,
// arrows, Tab, Backspace, Escape) are absent. Keypad keys assume Num Lock on,
// as scanners that use them do.
var keyChar = map[uint16][2]byte{
	2: {'1', '!'}, 3: {'2', '@'}, 4: {'3', '#'}, 5: {'4', '$'}, 6: {'5', '%'},
	7: {'6', '^'}, 8: {'7', '&'}, 9: {'8', '*'}, 10: {'9', '('}, 11: {'0', ')'},
	12: {'-', '_'}, 13: {'=', '+'},
	16: {'q', 'Q'}, 17: {'w', 'W'}, 18: {'e', 'E'}, 19: {'r', 'R'}, 20: {'t', 'T'},
	21: {'y', 'Y'}, 22: {'u', 'U'}, 23: {'i', 'I'}, 24: {'o', 'O'}, 25: {'p', 'P'},
	26: {'[', '{'}, 27: {']', '}'},
	30: {'a', 'A'}, 31: {'s', 'S'}, 32: {'d', 'D'}, 33: {'f', 'F'}, 34: {'g', 'G'},
	35: {'h', 'H'}, 36: {'j', 'J'}, 37: {'k', 'K'}, 38: {'l', 'L'},
	39: {';', ':'}, 40: {'\'', '"'}, 41: {'`', '~'}, 43: {'\\', '|'},
	44: {'z', 'Z'}, 45: {'x', 'X'}, 46: {'c', 'C'}, 47: {'v', 'V'}, 48: {'b', 'B'},
	49: {'n', 'N'}, 50: {'m', 'M'},
	51: {',', '<'}, 52: {'.', '>'}, 53: {'/', '?'},
	57: {' ', ' '},
	// Keypad.
	55: {'*', '*'}, 74: {'-', '-'}, 78: {'+', '+'}, 98: {'/', '/'}, 117: {'=', '='},
	71: {'7', '7'}, 72: {'8', '8'}, 73: {'9', '9'},
	75: {'4', '4'}, 76: {'5', '5'}, 77: {'6', '6'},
	79: {'1', '1'}, 80: {'2', '2'}, 81: {'3', '3'},
	82: {'0', '0'}, 83: {'.', '.'},
}

// isLetterKey reports whether code is a letter, whose case Caps Lock flips.
func isLetterKey(code uint16) bool {
	c, ok := keyChar[code]
	return ok && c[0] >= 'a' && c[0] <= 'z'
}
